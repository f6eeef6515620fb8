"""The global feed: every committed event gets a dense position, in an order that a
consumer polling "after position P" can trust never to go back on.

Why not the events' own sequence numbers: on Postgres a transaction can take sequence
10, another take 11 and commit first; a reader that saw 11 and moved on would never see
10. Instead the positioner hands out positions only to events written by transactions
older than the oldest one still running, ordered by (transaction id, sequence): nothing
can commit into that range any more, so positions, once given, are final. Writers take
no lock; positioners take turns on an advisory lock (SQLite serialises writers, so
commit order is sequence order there).

"The oldest one still running" is ``pg_snapshot_xmin(pg_current_snapshot())`` narrowed
to this database: transaction ids are cluster-wide, and a long transaction in another
database on the same server (a report, a dump) must not hold the feed back.

After every commit the writer runs the positioner and wakes the live SSE streams up; a
Celery beat task does the same every few seconds for events that were held back by a
transaction still running at the time. On Postgres a turn is two round trips, and its
commits do not wait for the disk: positions are a function of the committed events, so
a lost positioning commit is redone with the same positions (docs/event-store.md).
"""

import json
import logging
import threading
import time

from django.db import DatabaseError, connection, transaction

from finance.eventstore import store

logger = logging.getLogger(__name__)

CHANNEL = "events"
_ADVISORY_KEY = 7_305_237_154_163_425_001  # any fixed 64-bit number, the feed's own
_BATCH = 5000
_process_lock = threading.Lock()


def advance_and_publish(*, wait: bool = True) -> int:
    """Position every committable event, then wake the live streams for what is not yet
    published. Returns the number of events newly published. With ``wait=False`` it
    returns 0 at once when another process is already doing it."""
    if connection.in_atomic_block:
        transaction.on_commit(lambda: advance_and_publish(wait=wait))
        return 0
    if connection.vendor == "postgresql":
        return _advance_postgres(wait)
    return _advance_in_process(wait)


# --- Postgres ---------------------------------------------------------------------------
#
# A turn sends one query string to (take the lock,) fix the horizon and position the
# next batch; then, if anything is unpublished, wakes the streams and sends a second
# string to mark it published and release the lock. Each string of statements runs as
# one transaction of its own (autocommit), each statement with a fresh snapshot.

# Lets the transaction's commit return before it is on disk. Only for writes the next
# run redoes exactly: positions are a function of the committed events (so a lost
# positioning commit is redone with the same positions), and a lost publish mark only
# means a second wake-up of the streams, which read the feed by position anyway.
_NO_DISK_WAIT = "SET LOCAL synchronous_commit TO OFF; "

# The horizon, set for the rest of the transaction: the least of the next transaction
# id to come and the in-progress ids (of the snapshot) whose low 32 bits are the xid of
# a backend of this database (pg_stat_activity.backend_xid is a 32-bit xid). It must be
# a statement of its own, before the one that positions: a transaction of this database
# that finishes between the two is then visible to the positioning statement.
_SET_HORIZON = (
    "SELECT set_config('finance.feed_horizon', ("
    "  SELECT LEAST(pg_snapshot_xmax(s)::text::bigint,"
    "    (SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(s) AS x"
    "     WHERE mod(x::text::bigint, 4294967296) IN ("
    "       SELECT backend_xid::text::bigint FROM pg_stat_activity"
    "       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL)))"
    "  FROM pg_current_snapshot() AS s)::text, true); "
)

# Data-modifying CTE: the next committable events get the positions after
# ``positioned_upto``, and the state moves past the last of them. Answers (how many,
# positioned_upto before, published_upto), or no row when the state row is missing.
_POSITION_NEXT = (
    "WITH state AS ("
    "  SELECT last_transaction_id, last_sequence, positioned_upto, published_upto FROM finance_feed_state"
    "  WHERE id = 1"
    "), ready AS ("
    "  SELECT next.sequence, next.transaction_id,"
    "    s.positioned_upto + row_number() OVER (ORDER BY next.transaction_id, next.sequence) AS position"
    "  FROM state s, ("
    "    SELECT e.sequence, e.transaction_id FROM state s JOIN finance_event e"
    "      ON (e.transaction_id, e.sequence) > (s.last_transaction_id, s.last_sequence)"
    "    WHERE e.transaction_id < current_setting('finance.feed_horizon')::bigint"
    "    ORDER BY e.transaction_id, e.sequence LIMIT %s"
    "  ) next"
    "), positioned AS ("
    "  INSERT INTO finance_feed (position, event_sequence) SELECT position, sequence FROM ready"
    "), moved AS ("
    "  UPDATE finance_feed_state SET last_transaction_id = last.transaction_id, last_sequence = last.sequence,"
    "    positioned_upto = last.position"
    "  FROM (SELECT transaction_id, sequence, position FROM ready ORDER BY position DESC LIMIT 1) last"
    "  WHERE finance_feed_state.id = 1"
    ")"
    " SELECT (SELECT COUNT(*) FROM ready), positioned_upto, published_upto FROM state"
)

_MARK_PUBLISHED = "UPDATE finance_feed_state SET published_upto = %s WHERE id = 1 AND published_upto < %s"
_UNLOCK = "SELECT pg_advisory_unlock(%s)"


def _advance_postgres(wait: bool) -> int:
    """The positioner's turn; positioners of all processes take turns on an advisory lock."""
    with connection.cursor() as cursor:
        if not wait:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_KEY])
            if not cursor.fetchone()[0]:
                return 0
        # Asynchronous commits only in transactions of their own, never in a caller's.
        no_disk_wait = _NO_DISK_WAIT if connection.get_autocommit() else ""
        locked = True
        try:
            count, positioned_upto, published_upto = _position_next(cursor, lock=wait, no_disk_wait=no_disk_wait)
            while count == _BATCH:
                count, positioned_upto, _ = _position_next(cursor, lock=False, no_disk_wait=no_disk_wait)
            if positioned_upto <= published_upto:
                return 0
            try:
                _publish(positioned_upto)
            except PublishPaused:
                return 0
            except Exception:
                # Redis down: the events are safe in the log; SSE clients get them when
                # they reconnect, and the next run publishes from here.
                logger.warning("feed: live publish failed", extra={"published_upto": published_upto}, exc_info=True)
                return 0
            cursor.execute(
                no_disk_wait + _MARK_PUBLISHED + "; " + _UNLOCK,
                [positioned_upto, positioned_upto, _ADVISORY_KEY],
            )
            locked = False
            return positioned_upto - published_upto
        finally:
            if locked:
                _unlock(cursor)


def _position_next(cursor, *, lock: bool, no_disk_wait: str) -> tuple[int, int, int]:
    """Position the next batch; (how many, positioned up to, published up to) afterwards."""
    sql = no_disk_wait + _SET_HORIZON + _POSITION_NEXT
    params: list = [_BATCH]
    if lock:
        sql = "SELECT pg_advisory_lock(%s); " + sql
        params = [_ADVISORY_KEY, _BATCH]
    cursor.execute(sql, params)
    row = _last_row(cursor)
    if row is None:  # a test database that was just flushed
        _create_state(cursor)
        cursor.execute(no_disk_wait + _SET_HORIZON + _POSITION_NEXT, [_BATCH])
        row = _last_row(cursor)
    count, positioned_before, published_upto = row
    return count, positioned_before + count, published_upto


def _last_row(cursor):
    """The first row of the last statement's result. psycopg answers a string of several
    statements with a result each and puts the cursor on the first."""
    while cursor.nextset():
        pass
    return cursor.fetchone()


def _unlock(cursor) -> None:
    # A session advisory lock outlives a rolled-back transaction: release it whatever
    # went wrong, or every writer's positioner would wait for this connection to close.
    try:
        cursor.execute(_UNLOCK, [_ADVISORY_KEY])
    except DatabaseError:
        logger.warning("feed: could not release the positioner lock", exc_info=True)


def _create_state(cursor) -> None:
    cursor.execute(
        "INSERT INTO finance_feed_state (id, last_transaction_id, last_sequence, positioned_upto, published_upto)"
        " VALUES (1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
    )


# --- SQLite (embedded mode) -------------------------------------------------------------
#
# SQLite serialises writers, so sequence order is commit order; the positioners of this
# process take turns on a thread lock.


def _advance_in_process(wait: bool) -> int:
    if not _process_lock.acquire(blocking=wait):
        return 0
    try:
        while _position_batch_in_process() == _BATCH:
            pass
        with connection.cursor() as cursor:
            _, _, positioned_upto, published_upto = _state(cursor)
        if positioned_upto <= published_upto:
            return 0
        try:
            _publish(positioned_upto)
        except PublishPaused:
            return 0
        except Exception:
            logger.warning("feed: live publish failed", extra={"published_upto": published_upto}, exc_info=True)
            return 0
        with connection.cursor() as cursor:
            cursor.execute(_MARK_PUBLISHED, [positioned_upto, positioned_upto])
        return positioned_upto - published_upto
    finally:
        _process_lock.release()


def _position_batch_in_process() -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        _, last_sequence, positioned_upto, _ = _state(cursor)
        cursor.execute(
            "SELECT sequence FROM finance_event WHERE sequence > %s ORDER BY sequence LIMIT %s",
            [last_sequence, _BATCH],
        )
        sequences = [row[0] for row in cursor.fetchall()]
        if not sequences:
            return 0
        params: list = []
        for offset, sequence in enumerate(sequences, start=1):
            params += [positioned_upto + offset, sequence]
        cursor.execute(
            "INSERT INTO finance_feed (position, event_sequence) VALUES " + ", ".join(["(%s, %s)"] * len(sequences)),
            params,
        )
        cursor.execute(
            "UPDATE finance_feed_state SET last_sequence = %s, positioned_upto = %s WHERE id = 1",
            [sequences[-1], positioned_upto + len(sequences)],
        )
        return len(sequences)


def _state(cursor) -> tuple[int, int, int, int]:
    """(last transaction id, last sequence, positioned up to, published up to)."""
    cursor.execute(
        "SELECT last_transaction_id, last_sequence, positioned_upto, published_upto FROM finance_feed_state"
        " WHERE id = 1"
    )
    row = cursor.fetchone()
    if row is None:  # a test database that was just flushed
        _create_state(cursor)
        return 0, 0, 0, 0
    return row


# --- Live streams -----------------------------------------------------------------------


# Live publishes go through a client of their own: django-eventstream's retries with
# backoff (about 3.4 s against a stopped Redis) and waits without a timeout would hold
# every write's response while Redis is away. After a failure, writers skip the publish
# for a while; the beat task publishes what they skipped (docs/reliability.md, Chaos).
PUBLISH_TIMEOUT_SECONDS = 0.5
PUBLISH_PAUSE_SECONDS = 5.0
_publisher = None
_paused_until = 0.0


class PublishPaused(Exception):
    """A recent publish failed: this one is left to the next run after the pause."""


def _publish(position: int) -> None:
    """Wake the SSE streams of every process (django-eventstream's listeners, through
    Redis when configured): the feed now reaches ``position``. Each stream then reads the
    feed itself from the last position it sent (see ``sse``), so one wake-up covers any
    number of events. Raises if Redis cannot be reached."""
    from django.conf import settings
    from django_eventstream.event import Event
    from django_eventstream.views import get_listener_manager

    if not hasattr(settings, "EVENTSTREAM_REDIS"):
        get_listener_manager().add_to_queues(CHANNEL, Event(CHANNEL, "message", "", id=position))
        return
    global _paused_until
    if time.monotonic() < _paused_until:
        raise PublishPaused(f"live publish paused for {_paused_until - time.monotonic():.1f} s after a failure")
    try:
        _redis_publisher(settings.EVENTSTREAM_REDIS).publish(
            "events_channel",
            json.dumps({"channel": CHANNEL, "event_type": "message", "data": "", "pub_id": position}),
        )
    except Exception:
        _paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
        raise


def _redis_publisher(options: dict):
    global _publisher
    if _publisher is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        _publisher = redis.Redis(
            **options,
            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
            socket_timeout=PUBLISH_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
    return _publisher


def read(*, after: int, limit: int) -> list[store.RecordedEvent]:
    """Events after position ``after``, in position order; positions any committable
    events first so a poller sees its own writes at once."""
    advance_and_publish(wait=False)
    return store.read_positions(after, limit)


def last_position() -> int:
    with connection.cursor() as cursor:
        return _state(cursor)[2]
