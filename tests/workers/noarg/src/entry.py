from workers import DurableObject, Response, WorkerEntrypoint

__all__ = ["Counter", "Default", "Named"]

CRONS = []


class Default(WorkerEntrypoint):
    async def fetch(self):
        return Response(f"no request needed ({self.env.GREETING})")

    def scheduled(self, controller):  # sync and without env/ctx: both allowed
        CRONS.append(controller.cron)


class Named(WorkerEntrypoint):
    async def add(self, a, b):
        return a + b


class Counter(DurableObject):
    pass


class NotExported(WorkerEntrypoint):
    pass
