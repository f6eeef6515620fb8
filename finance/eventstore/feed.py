"""The global feed: every committed event gets a dense position, in an order that a
consumer polling "after position P" can trust never to go back on.

Why not the events' own sequence numbers: on Postgres a transaction can take sequence
10, another take 11 and commit first; a reader that saw 11 and moved on would never see
10. Instead the positioner hands out positions only to events written by transactions
older than the oldest one still running (``transaction_id < pg_snapshot_xmin(
pg_current_snapshot())``), ordered by (transaction id, sequence): nothing can commit
into that range any more, so positions, once given, are final. Writers take no lock;
positioners take turns on an advisory lock (SQLite serialises writers, so commit order
is sequence order there).

After every commit the writer runs the positioner and publishes the newly positioned
events to the live SSE stream; a Celery beat task does the same every few seconds for
events that were held back by a transaction still running at the time. On Postgres a
batch is positioned by one statement, its commit does not wait for the disk (positions
are a function of the committed events, so a lost one is redone identically), and a
batch is published to Redis in one round trip. See docs/event-store.md.
"""

import json
import logging
import threading

from django.db import connection, transaction

from finance.eventstore import store

logger = logging.getLogger(__name__)

CHANNEL = "events"
_ADVISORY_KEY = 7_305_237_154_163_425_001  # any fixed 64-bit number, the feed's own
_BATCH = 5000
_process_lock = threading.Lock()


def advance_and_publish(*, wait: bool = True) -> int:
    """Position every committable event, then publish what is not yet published, in
    position order. Returns the number of events published. With ``wait=False`` it
    returns 0 at once when another process is already doing it."""
    if connection.in_atomic_block:
        transaction.on_commit(lambda: advance_and_publish(wait=wait))
        return 0
    if connection.vendor == "postgresql":
        return _advance_postgres(wait)
    return _advance_in_process(wait)


# --- Postgres ---------------------------------------------------------------------------
#
# One turn of the positioner is two round trips in the common case: (take the lock;)
# position the next batch; read what is unpublished -- then publish -- then mark it
# published (and release the lock). Each string of several statements is one
# transaction of its own (autocommit), and statements see the ones before them.

# Lets the transaction's commit return before it is on disk. Only for writes the next
# run can redo exactly: positions are a function of the committed events (so a lost
# positioning commit is redone with the same positions, see docs/event-store.md), and
# a lost publish mark only means a re-publish, which SSE clients recognise by id.
_NO_DISK_WAIT = "SET LOCAL synchronous_commit TO OFF; "

# Data-modifying CTE: the next committable events (see the module docstring) get the
# positions after ``positioned_upto``, and the state moves past the last of them.
_POSITION_NEXT = (
    "WITH state AS ("
    "  SELECT last_transaction_id, last_sequence, positioned_upto FROM finance_feed_state WHERE id = 1"
    "), ready AS ("
    "  SELECT next.sequence, next.transaction_id,"
    "    s.positioned_upto + row_number() OVER (ORDER BY next.transaction_id, next.sequence) AS position"
    "  FROM state s, ("
    "    SELECT e.sequence, e.transaction_id FROM state s JOIN finance_event e"
    "      ON (e.transaction_id, e.sequence) > (s.last_transaction_id, s.last_sequence)"
    "    WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    "    ORDER BY e.transaction_id, e.sequence LIMIT %s"
    "  ) next"
    "), positioned AS ("
    "  INSERT INTO finance_feed (position, event_sequence) SELECT position, sequence FROM ready"
    ")"
    " UPDATE finance_feed_state SET last_transaction_id = last.transaction_id, last_sequence = last.sequence,"
    "  positioned_upto = last.position"
    " FROM (SELECT transaction_id, sequence, position FROM ready ORDER BY position DESC LIMIT 1) last"
    " WHERE finance_feed_state.id = 1; "
)

# The next unpublished events in position order, each row led by (positioned_upto,
# published_upto); a single row of those two and NULLs when nothing is unpublished,
# and no row at all when the state row is missing.
_UNPUBLISHED = (
    f"SELECT s.positioned_upto, s.published_upto, {store.EVENT_COLUMNS} FROM finance_feed_state s"
    " LEFT JOIN (finance_feed f JOIN finance_event e ON e.sequence = f.event_sequence)"
    "  ON f.position > s.published_upto"
    " WHERE s.id = 1 ORDER BY f.position LIMIT %s"
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
        lock, locked, published = wait, True, 0
        try:
            while True:
                rows = _position_and_read(cursor, lock=lock, no_disk_wait=no_disk_wait)
                lock = False
                events = [store.recorded_event(row[2:]) for row in rows if row[2] is not None]
                if not events:
                    return published
                try:
                    _publish(events)
                except Exception:
                    # Redis down: the events are safe in the log; SSE clients get them
                    # when they reconnect, and the next run publishes from here.
                    logger.warning("feed: live publish failed", extra={"published_upto": rows[0][1]}, exc_info=True)
                    return published
                published += len(events)
                # Fewer than a batch: nothing was left to position or publish.
                done = len(events) < _BATCH
                position = events[-1].position
                cursor.execute(
                    no_disk_wait + _MARK_PUBLISHED + "; " + (_UNLOCK if done else "SELECT 1"),
                    [position, position] + ([_ADVISORY_KEY] if done else []),
                )
                if done:
                    locked = False
                    return published
        finally:
            if locked:
                cursor.execute(_UNLOCK, [_ADVISORY_KEY])


def _position_and_read(cursor, *, lock: bool, no_disk_wait: str) -> list[tuple]:
    sql = no_disk_wait + _POSITION_NEXT + _UNPUBLISHED
    params = [_BATCH, _BATCH]
    if lock:
        sql = "SELECT pg_advisory_lock(%s); " + sql
        params = [_ADVISORY_KEY, *params]
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    if not rows:  # a test database that was just flushed
        _create_state(cursor)
        cursor.execute(no_disk_wait + _POSITION_NEXT + _UNPUBLISHED, [_BATCH, _BATCH])
        rows = cursor.fetchall()
    return rows


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
        return _publish_pending_in_process()
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


def _publish_pending_in_process() -> int:
    with connection.cursor() as cursor:
        _, _, positioned_upto, published_upto = _state(cursor)
    published = 0
    while published_upto < positioned_upto:
        events = store.read_positions(published_upto, _BATCH)
        try:
            _publish(events)
        except Exception:
            logger.warning("feed: live publish failed", extra={"published_upto": published_upto}, exc_info=True)
            break
        published_upto = events[-1].position
        published += len(events)
        with connection.cursor() as cursor:
            cursor.execute(_MARK_PUBLISHED, [published_upto, published_upto])
    return published


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


def _publish(events: list[store.RecordedEvent]) -> None:
    """Hand the events to the SSE listeners (through Redis when it is configured, in
    one round trip); raises if Redis cannot be reached."""
    # django-eventstream's send_event() would store the event again under an id of its
    # own; here the id is the position, so hand it straight to the listeners.
    from django_eventstream import eventstream
    from django_eventstream.event import Event
    from django_eventstream.views import get_listener_manager

    from finance.eventstore.serialization import event_json

    if eventstream.redis_client is not None:
        pipeline = eventstream.redis_client.pipeline(transaction=False)
        for event in events:
            message = {"channel": CHANNEL, "event_type": "message", "data": event_json(event), "pub_id": event.position}
            pipeline.publish("events_channel", json.dumps(message))
        pipeline.execute()
    else:
        listeners = get_listener_manager()
        for event in events:
            listeners.add_to_queues(CHANNEL, Event(CHANNEL, "message", event_json(event), id=event.position))


def read(*, after: int, limit: int) -> list[store.RecordedEvent]:
    """Events after position ``after``, in position order; positions any committable
    events first so a poller sees its own writes at once."""
    advance_and_publish(wait=False)
    return store.read_positions(after, limit)


def last_position() -> int:
    with connection.cursor() as cursor:
        return _state(cursor)[2]
