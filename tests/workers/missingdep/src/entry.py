import portflare_test_not_installed  # noqa: F401
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("unreachable")
