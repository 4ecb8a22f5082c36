# Stands in for the real SDK that `pywrangler sync` vendors: it cannot run on CPython, and must never win.
raise ImportError("the vendored Cloudflare SDK was imported instead of portflare's workers module")
