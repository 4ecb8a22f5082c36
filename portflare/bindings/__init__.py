"""Cloudflare bindings, one package per kind.

Each package (``kv``, ``d1``, ``r2``, ...) has the same few roles:
``binding.py`` the Cloudflare-shaped object a Worker calls; ``validate.py`` Cloudflare's limits and error
wording, once for all backends; ``base.py`` the small async backend ``Protocol``; one module per backend
technology. The package exposes ``BACKENDS`` (URL scheme → ``"module:Class"``) and
``async open_binding(target: BackendTarget) -> <binding>``; the binding's ``async _aclose()`` releases it.
"""
