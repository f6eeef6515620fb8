"""Traffic of ramping flags' cohorts, counted by every worker and added up across them.

The middleware records each in-cohort request of a ramping flag in an in-process buffer
(no I/O); the flag registry drains it at most once a second into a shared store — Redis
when ``REDIS_URL`` is set, the database otherwise (the embedded mode) — in one-minute
windows per flag, with a latency histogram so the guard can take a P95 over all workers.
"""

import logging
import threading
import time
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from rollout import metrics
from rollout.models import TrafficCount
from rollout.ramp import LATENCY_BOUNDS_MS, Traffic, latency_bucket

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Counts outlive the longest hold a plan may ask for, plus a day.
RETENTION_SECONDS = 8 * 24 * 3600
BUCKET_COUNT = len(LATENCY_BOUNDS_MS) + 1
# A buffer that could not be flushed for a long time stops growing here.
MAX_BUFFERED_KEYS = 50_000

Key = tuple[str, int, int]  # flag name, window start (unix s), latency bucket


class TrafficBuffer:
    """In-process counts waiting for the next flush. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: defaultdict[Key, list[int]] = defaultdict(lambda: [0, 0])

    def record(self, flag: str, *, error: bool, latency_ms: float, at: float) -> None:
        key = (flag, int(at) // WINDOW_SECONDS * WINDOW_SECONDS, latency_bucket(latency_ms))
        with self._lock:
            counts = self._counts[key]
            counts[0] += 1
            counts[1] += error

    def drain(self) -> dict[Key, list[int]]:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(lambda: [0, 0])
        return dict(counts)

    def restore(self, counts: dict[Key, list[int]]) -> None:
        """Put back counts a flush could not write, unless the buffer is already full."""
        with self._lock:
            for key, (requests, errors) in counts.items():
                if key not in self._counts and len(self._counts) >= MAX_BUFFERED_KEYS:
                    continue
                mine = self._counts[key]
                mine[0] += requests
                mine[1] += errors

    def __bool__(self) -> bool:
        return bool(self._counts)


def _window_range(since: datetime, until: datetime) -> range:
    # Whole windows that started at or after the stage began: the one straddling the
    # start may hold requests from before it (even from before a rollback), so it is
    # left out, at the cost of up to a minute of the stage's own traffic.
    first = -(-int(since.timestamp()) // WINDOW_SECONDS) * WINDOW_SECONDS
    return range(first, int(until.timestamp()) + 1, WINDOW_SECONDS)


def _traffic(requests_by_bucket: list[int], errors: int) -> Traffic:
    return Traffic(requests=sum(requests_by_bucket), errors=errors, latency_counts=tuple(requests_by_bucket))


class RedisTraffic:
    """Counts in Redis hashes ``rollout:traffic:<flag>:<window>`` with fields ``r<i>`` and
    ``e<i>`` per latency bucket; they expire after ``RETENTION_SECONDS``."""

    def _client(self):
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    @staticmethod
    def _key(flag: str, window: int) -> str:
        return f"rollout:traffic:{flag}:{window}"

    def add(self, counts: dict[Key, list[int]]) -> None:
        pipe = self._client().pipeline(transaction=False)
        for (flag, window, bucket), (requests, errors) in counts.items():
            key = self._key(flag, window)
            pipe.hincrby(key, f"r{bucket}", requests)
            if errors:
                pipe.hincrby(key, f"e{bucket}", errors)
            pipe.expire(key, RETENTION_SECONDS)
        pipe.execute()

    def window(self, flag: str, since: datetime, until: datetime) -> Traffic:
        pipe = self._client().pipeline(transaction=False)
        for window in _window_range(since, until):
            pipe.hgetall(self._key(flag, window))
        by_bucket = [0] * BUCKET_COUNT
        errors = 0
        for fields in pipe.execute():
            for name, value in fields.items():
                name = name.decode()
                if name[0] == "r":
                    by_bucket[int(name[1:])] += int(value)
                else:
                    errors += int(value)
        return _traffic(by_bucket, errors)

    def purge(self, before: datetime) -> int:
        return 0  # keys expire by themselves


class DatabaseTraffic:
    """Counts in ``rollout_traffic_count`` rows, added with an atomic upsert so that
    several processes can flush at once."""

    def add(self, counts: dict[Key, list[int]]) -> None:
        table = TrafficCount._meta.db_table
        sql = (
            f"INSERT INTO {table} (flag_name, window_start, latency_bucket, requests, errors) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (flag_name, window_start, latency_bucket) DO UPDATE SET "
            f"requests = {table}.requests + excluded.requests, errors = {table}.errors + excluded.errors"
        )
        rows = [
            (flag, window, bucket, requests, errors) for (flag, window, bucket), (requests, errors) in counts.items()
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def window(self, flag: str, since: datetime, until: datetime) -> Traffic:
        windows = _window_range(since, until)
        by_bucket = [0] * BUCKET_COUNT
        errors = 0
        rows = TrafficCount.objects.filter(
            flag_name=flag, window_start__gte=windows.start, window_start__lt=windows.stop
        ).values_list("latency_bucket", "requests", "errors")
        for bucket, requests, bucket_errors in rows:
            by_bucket[bucket] += requests
            errors += bucket_errors
        return _traffic(by_bucket, errors)

    def purge(self, before: datetime) -> int:
        deleted, _ = TrafficCount.objects.filter(window_start__lt=int(before.timestamp())).delete()
        return deleted


def store() -> RedisTraffic | DatabaseTraffic:
    """Where traffic counts are shared: Redis when configured, else the database."""
    return RedisTraffic() if settings.REDIS_URL else DatabaseTraffic()


buffer = TrafficBuffer()
# Where the middleware takes a request's time from (tests move it).
wall_clock = time.time


def flush() -> None:
    """Write the buffered counts to the shared store; on failure keep them for the next
    flush. Never raises: it runs on the request path."""
    if not buffer:
        return
    counts = buffer.drain()
    try:
        store().add(counts)
    except Exception:  # Redis or the database is down: count later rather than fail a request
        metrics.TRAFFIC_FLUSH_FAILURES.inc()
        logger.warning("rollout traffic flush failed; counts kept", extra={"keys": len(counts)}, exc_info=True)
        buffer.restore(counts)
