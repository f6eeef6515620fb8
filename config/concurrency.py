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

UNBOUNDED_PATHS = ("/api/v1/events/stream/", "/healthz", "/readyz", "/metrics")


class ConcurrencyLimit:
    """ASGI middleware: ``limit`` HTTP requests at once through ``app``."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.limit <= 0 or scope["path"].startswith(UNBOUNDED_PATHS):
            return await self.app(scope, receive, send)
        if self._semaphore is None:  # created in the worker's event loop, not at import
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            return await self.app(scope, receive, send)
