"""The service a scenario runs against: gunicorn with the production config (as the drills
run it) on a migrated Postgres database, with a private Redis of its own so that no one
else's cache, queues or SSE listeners are touched."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from loadtest.drills import books as drill_books
from loadtest.drills.postgres import PrivateCluster
from loadtest.drills.server import Gunicorn, service_environment
from loadtest.private_redis import RedisServer


@dataclass
class Service:
    environment: dict[str, str]
    token: str
    redis: RedisServer
    server: Gunicorn


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A throwaway Postgres cluster: a hundred clients may open as many connections as
    they like, and a scenario may stop it, without touching anyone else's server."""
    cluster = PrivateCluster()
    try:
        yield cluster.create()
    finally:
        cluster.destroy()


@contextmanager
def running_service(database_url: str, *, workers: int = 2, **overrides: str) -> Iterator[Service]:
    """Migrate the database (created if missing), start a private Redis and gunicorn;
    stop both on exit, whatever happened."""
    redis = RedisServer().start()
    service = None
    try:
        environment = service_environment(database_url, redis.url(), **overrides)
        token = drill_books.prepare_database(environment)
        service = Service(environment, token, redis, Gunicorn(environment, workers=workers))
        service.server.start()
        yield service
    finally:
        # The server running now: a scenario may have replaced the one it started with.
        if service is not None:
            service.server.stop()
        redis.stop()
