"""At most so many requests of one worker process inside Django at a time; the others
wait their turn in the event loop.

Django runs each ASGI request's synchronous code in a thread of its own, with a database
connection of its own, so without a bound a burst of clients opens as many Postgres
connections as there are requests in flight: a hundred concurrent clients on two workers
held 95 connections, the server's whole ``max_connections`` (docs/reliability.md, Chaos).
With the bound, a worker holds at most ``limit`` connections and a burst queues instead.

Not bounded: the SSE stream (it holds its connection open for as long as the client
listens and gives its database session back between reads) and the probes and metrics
(a saturated worker must still say that it is alive)."""

import asyncio
import weakref

UNBOUNDED_PATHS = ("/api/v1/events/stream/", "/healthz", "/readyz", "/metrics")


class ConcurrencyLimit:
    """ASGI middleware: ``limit`` HTTP requests at once through ``app``."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        # One semaphore per event loop: a worker runs one loop, but a process that serves
        # the app from several loops in turn (tests, an embedded server) needs one each.
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.limit <= 0 or scope["path"].startswith(UNBOUNDED_PATHS):
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        async with semaphore:
            return await self.app(scope, receive, send)
