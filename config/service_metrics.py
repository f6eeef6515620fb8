"""Figures measured when Prometheus scrapes, not when something happens: whether the
database and Redis answer, how far snapshots lag, how long the Celery queues are, and the
last verification results. Each would be wrong, or missing exactly when it matters, if it
were only recorded by the process that does the work (the beat, a CronJob).

The measurements are cached for a few seconds so that several scrapers, or a scraper
retrying, cost the database one query.

In production the gunicorn master serves them (config/gunicorn.conf.py) and forks workers
while it does: no fork happens in the middle of a measurement, and every measurement
closes its database connection and connection pool, so a worker never inherits a live
Postgres socket (its copy would say goodbye to Postgres on the master's behalf when it is
freed) and the master holds no connection between scrapes. A worker drops whatever pool it
might inherit anyway (config/database_pools.py).
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection, connections
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from config import database_pools, health
from finance import metrics

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 5.0

_measuring = threading.Lock()
os.register_at_fork(before=_measuring.acquire, after_in_parent=_measuring.release, after_in_child=_measuring.release)

# (kind, differences metric, timestamp metric, help): present only once a verification ran,
# so a fresh install shows "never verified" rather than a reassuring zero.
_VERIFICATIONS = (
    (
        metrics.EVENT_LOG,
        "finance_event_log_bad_events",
        "finance_event_log_verified_timestamp_seconds",
        "Bad events (broken hash chains) the last event-log verification found.",
    ),
    (
        metrics.PROJECTIONS,
        "finance_projection_drift",
        "finance_projection_verified_timestamp_seconds",
        "Rows that differ between live read models and a rebuild at the last verification (0 = in step).",
    ),
)


def _snapshot_backlog(every: int) -> tuple[int, int]:
    """(most events any stream has past its last snapshot, streams due for one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(MAX(version - snapshot_version), 0),"
            " COALESCE(SUM(CASE WHEN version - snapshot_version >= %s THEN 1 ELSE 0 END), 0)"
            " FROM finance_stream",
            [every],
        )
        lag, due = cursor.fetchone()
    return int(lag), int(due)


def _queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue on the Redis broker."""
    import redis

    from config.celery import app

    queues = [queue.name for queue in app.conf.task_queues or []] or [app.conf.task_default_queue]
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return {name: int(client.llen(name)) for name in queues}
    except redis.RedisError:
        logger.warning("metrics: queue length unavailable", exc_info=True)
        return {}
    finally:
        client.close()


class ServiceStateCollector(Collector):
    """Collects the scrape-time figures; see the module docstring.

    ``close_connections``: close the database connection after each measurement, for a
    metrics server outside Django's request cycle (a thread per scrape, and forks)."""

    def __init__(self, *, close_connections: bool = False) -> None:
        self._close_connections = close_connections
        self._families: list = []
        self._measured_at = float("-inf")

    def collect(self):
        with _measuring:
            if time.monotonic() - self._measured_at > _CACHE_SECONDS:
                try:
                    self._families = self._measure()
                finally:
                    if self._close_connections:
                        connections.close_all()
                        database_pools.close_pools()
                self._measured_at = time.monotonic()
            return list(self._families)

    def _measure(self) -> list:
        up = GaugeMetricFamily(
            "finance_dependency_up", "1 when the dependency answered the last probe, else 0.", labels=["dependency"]
        )
        families = [up]
        database_up = health._database_ok()
        up.add_metric(["database"], 1 if database_up else 0)
        if settings.REDIS_URL:
            up.add_metric(["redis"], 1 if health._redis_ok() else 0)
            queue = GaugeMetricFamily(
                "finance_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
            )
            for name, length in _queue_lengths().items():
                queue.add_metric([name], length)
            families.append(queue)
        if database_up:
            families += self._snapshot_families()
        families += self._verification_families()
        return families

    def _snapshot_families(self) -> list:
        try:
            lag, due = _snapshot_backlog(settings.FINANCE_SNAPSHOT_EVERY)
        except DatabaseError:
            logger.warning("metrics: snapshot backlog unavailable", exc_info=True)
            return []
        return [
            GaugeMetricFamily(
                "finance_snapshot_lag_events", "Most events any stream has past its last snapshot.", value=lag
            ),
            GaugeMetricFamily(
                "finance_snapshots_due",
                "Streams with at least FINANCE_SNAPSHOT_EVERY events past their last snapshot.",
                value=due,
            ),
            GaugeMetricFamily(
                "finance_snapshot_every_events",
                "Events past the last snapshot that make a stream due (FINANCE_SNAPSHOT_EVERY).",
                value=settings.FINANCE_SNAPSHOT_EVERY,
            ),
        ]

    def _verification_families(self) -> list:
        families = []
        for kind, differences_name, timestamp_name, help_text in _VERIFICATIONS:
            result = metrics.last_verification(kind)
            if result is None:
                continue
            families.append(GaugeMetricFamily(differences_name, help_text, value=result["differences"]))
            families.append(
                GaugeMetricFamily(timestamp_name, "When that verification finished (unix seconds).", value=result["at"])
            )
        return families
