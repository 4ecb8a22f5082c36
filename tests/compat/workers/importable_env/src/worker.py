# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/workerd src/workerd/server/tests/python/importable-env/
# worker.py @10d1c880 and python-importable-env/worker.py @046f3313 (Apache-2.0): the env read at module
# import through import_from_javascript("cloudflare:workers") and `from workers import env`, the
# cloudflare:sockets module having `connect`, and other module names raising ImportError.
# Written for portflare's tests, not a copy.
from workers import Response, WorkerEntrypoint, env as workers_env, import_from_javascript

from pyodide import __version__
from pyodide.ffi import create_proxy, to_js

workers_module = import_from_javascript("cloudflare:workers")
env = workers_module.env
assert env.FOO == "BAR", "env.FOO should be 'BAR'"
FOO_AT_IMPORT = workers_env.FOO
sockets_module = import_from_javascript("cloudflare:sockets")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        assert hasattr(sockets_module, "connect")
        try:
            import_from_javascript("crypto")
            return Response("import_from_javascript('crypto') should not work", status=500)
        except ImportError:
            pass
        assert create_proxy and to_js and __version__
        return Response.json({"module": env.FOO, "import_time": FOO_AT_IMPORT, "self": self.env.FOO,
                              "workers_env": workers_env.FOO})
