import vendored_lib
import workers
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"{vendored_lib.VALUE} | {workers.__file__}")
