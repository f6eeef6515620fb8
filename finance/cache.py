"""What the cache holds, and why a read never gets a stale answer from it.

Aggregate state, under ``aggregate:<stream id>``: the state at a version and the hash of
the event at that version. Event hashes chain every earlier event, so the hash names the
whole history the state was built from. A load asks the store for the events from that
version on (one query, as a load without the cache makes): when the event at the cached
version still has that hash, it applies whatever came after (usually nothing) and skips
the snapshot and the replay; otherwise (an entry from another database, from a write
that rolled back) it loads as if nothing were cached and replaces the entry. A save
writes the new state through, so the next command on the aggregate starts from it.

Report results, under ``report:<name>:<arguments>:<log size>:<head hash>``: the log size
is the number of committed events the reading statement sees (those the feed has
positioned plus those committed and not positioned yet), the head hash that of the
newest of them. Every write appends events in the transaction that updates the read
models, so a read that starts after a write's response sees a longer log, misses the
cache and computes afresh: reports keep read-your-writes. The key is read before the
report is computed, so an entry is never older than its key says.

Redis is a cache, not a source of truth: any error from it is logged and the request
goes to the database. ``FINANCE_CACHE=false`` turns both caches off (the event-store
benchmark measures the store itself).
"""

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from finance import metrics

logger = logging.getLogger(__name__)

AGGREGATE_TTL_SECONDS = 24 * 3600
REPORT_TTL_SECONDS = 600


@dataclass(frozen=True)
class CachedState:
    version: int
    event_hash: str
    state: dict


def enabled() -> bool:
    return getattr(settings, "FINANCE_CACHE", True)


def _aggregate_key(stream_id: str, schema_version: int) -> str:
    return f"aggregate:{schema_version}:{stream_id}"


def get_aggregate(stream_id: str, schema_version: int) -> CachedState | None:
    """The cached state of a stream (of the aggregate's current state schema), or None."""
    try:
        found = cache.get(_aggregate_key(stream_id, schema_version))
    except Exception:
        logger.warning("cache read failed", extra={"stream": stream_id}, exc_info=True)
        return None
    return found if isinstance(found, CachedState) else None


def put_aggregate(stream_id: str, schema_version: int, entry: CachedState) -> None:
    try:
        cache.set(_aggregate_key(stream_id, schema_version), entry, timeout=AGGREGATE_TTL_SECONDS)
    except Exception:
        logger.warning("cache write failed", extra={"stream": stream_id}, exc_info=True)


# The committed length of the log and its newest event's hash, in one statement (one
# snapshot). On Postgres the feed positions events in (transaction id, sequence) order
# and only once no older transaction can commit, so every committed event at or before
# the positioner's mark has a position: the committed events are the ``positioned_upto``
# positioned ones plus those after the mark. SQLite commits in sequence order.
_LOG_MARK = {
    "postgresql": (
        "SELECT s.positioned_upto + (SELECT COUNT(*) FROM finance_event e"
        "  WHERE (e.transaction_id, e.sequence) > (s.last_transaction_id, s.last_sequence)),"
        " (SELECT hash FROM finance_event ORDER BY sequence DESC LIMIT 1)"
        " FROM finance_feed_state s WHERE s.id = 1"
    ),
    "sqlite": (
        "SELECT s.positioned_upto + (SELECT COUNT(*) FROM finance_event e WHERE e.sequence > s.last_sequence),"
        " (SELECT hash FROM finance_event ORDER BY sequence DESC LIMIT 1)"
        " FROM finance_feed_state s WHERE s.id = 1"
    ),
}


def log_mark() -> str | None:
    """``<committed events>:<newest hash>`` as the current statement sees the log; None
    before the feed has any state (a database just created)."""
    with connection.cursor() as cursor:
        cursor.execute(_LOG_MARK[connection.vendor])
        row = cursor.fetchone()
    if row is None:
        return None
    return f"{row[0]}:{row[1] or ''}"


def report(name: str, arguments: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
    """``compute()``, or its result for the same arguments at the same log mark."""
    if not enabled():
        return compute()
    mark = log_mark()
    if mark is None:
        return compute()
    key = f"report:{name}:{':'.join(str(a) for a in arguments)}:{mark}"
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("cache read failed", extra={"report": name}, exc_info=True)
        found = None
    if found is not None:
        metrics.REPORT_CACHE.labels(report=name, result="hit").inc()
        return found
    metrics.REPORT_CACHE.labels(report=name, result="miss").inc()
    result = compute()
    try:
        cache.set(key, result, timeout=REPORT_TTL_SECONDS)
    except Exception:
        logger.warning("cache write failed", extra={"report": name}, exc_info=True)
    return result
