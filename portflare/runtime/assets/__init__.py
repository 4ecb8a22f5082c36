"""Static assets (``[assets]`` in wrangler config), served as Cloudflare's asset worker serves them.

``paths`` (URL pathnames, decoding), ``resolve`` (``html_handling``/``not_found_handling``: pure),
``content_types``, ``rules`` (``_redirects``, ``_headers``, ``run_worker_first`` patterns), ``index`` (the
directory walk, ``.assetsignore``, safe opens) and ``server`` (``AssetServer``, what the runtime calls).
"""

from __future__ import annotations

from portflare.runtime.assets.server import AssetServer

__all__ = ["AssetServer"]
