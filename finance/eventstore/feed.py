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
from contextlib import contextmanager

from django.db import connection, transaction

from finance.eventstore import store

logger = logging.getLogger(__name__)

CHANNEL = "events"
_ADVISORY_KEY = 7_305_237_154_163_425_001  # any fixed 64-bit number, the feed's own
_BATCH = 5000
_process_lock = threading.Lock()


@contextmanager
def _positioner_turn(wait: bool):
    """Exclusive turn across all processes (Postgres advisory lock) or threads (SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s)" if wait else "SELECT pg_try_advisory_lock(%s)", [_ADVISORY_KEY]
            )
            acquired = wait or cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_KEY])
    else:
        acquired = _process_lock.acquire(blocking=wait)
        try:
            yield acquired
        finally:
            if acquired:
                _process_lock.release()


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


def _create_state(cursor) -> None:
    cursor.execute(
        "INSERT INTO finance_feed_state (id, last_transaction_id, last_sequence, positioned_upto, published_upto)"
        " VALUES (1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
    )


# One statement, so one round trip, and atomic on its own: the next committable events
# (see the module docstring) get the positions after ``positioned_upto``, and the state
# moves past the last of them. Answers (how many, positioned_upto and published_upto as
# they were before), or no row when the state row is missing.
_POSITION_NEXT_POSTGRES = (
    "WITH state AS ("
    "  SELECT last_transaction_id, last_sequence, positioned_upto, published_upto FROM finance_feed_state"
    "  WHERE id = 1"
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
    "), moved AS ("
    "  UPDATE finance_feed_state SET last_transaction_id = last.transaction_id, last_sequence = last.sequence,"
    "    positioned_upto = last.position"
    "  FROM (SELECT transaction_id, sequence, position FROM ready ORDER BY position DESC LIMIT 1) last"
    "  WHERE finance_feed_state.id = 1"
    ")"
    " SELECT (SELECT COUNT(*) FROM ready), positioned_upto, published_upto FROM state"
)


def _position_batch() -> tuple[int, int, int]:
    """Position the next batch of committable events. Returns (how many got a
    position, positioned up to, published up to) as they are afterwards."""
    if connection.vendor == "postgresql":
        # Positions are a function of the committed events alone: should a crash lose
        # this commit, the next run hands the same events the same positions (see
        # docs/event-store.md), so it need not wait for the disk.
        sql = _without_waiting_for_the_disk(_POSITION_NEXT_POSTGRES)
        with connection.cursor() as cursor:
            cursor.execute(sql, [_BATCH])
            row = cursor.fetchone()
            if row is None:
                _create_state(cursor)
                cursor.execute(sql, [_BATCH])
                row = cursor.fetchone()
        count, positioned_upto, published_upto = row
        return count, positioned_upto + count, published_upto
    # SQLite serialises writers, so sequence order is commit order.
    with transaction.atomic(), connection.cursor() as cursor:
        _, last_sequence, positioned_upto, published_upto = _state(cursor)
        cursor.execute(
            "SELECT sequence FROM finance_event WHERE sequence > %s ORDER BY sequence LIMIT %s",
            [last_sequence, _BATCH],
        )
        sequences = [row[0] for row in cursor.fetchall()]
        if not sequences:
            return 0, positioned_upto, published_upto
        params: list = []
        for offset, sequence in enumerate(sequences, start=1):
            params += [positioned_upto + offset, sequence]
        cursor.execute(
            "INSERT INTO finance_feed (position, event_sequence) VALUES " + ", ".join(["(%s, %s)"] * len(sequences)),
            params,
        )
        positioned_upto += len(sequences)
        cursor.execute(
            "UPDATE finance_feed_state SET last_sequence = %s, positioned_upto = %s WHERE id = 1",
            [sequences[-1], positioned_upto],
        )
        return len(sequences), positioned_upto, published_upto


def advance_and_publish(*, wait: bool = True) -> int:
    """Position every committable event, then publish what is not yet published, in
    position order. Returns the number of events published. With ``wait=False`` it
    returns 0 at once when another process is already doing it."""
    if connection.in_atomic_block:
        transaction.on_commit(lambda: advance_and_publish(wait=wait))
        return 0
    with _positioner_turn(wait) as turn:
        if not turn:
            return 0
        count, positioned_upto, published_upto = _position_batch()
        while count == _BATCH:
            count, positioned_upto, published_upto = _position_batch()
        return _publish_pending(positioned_upto, published_upto)


def _publish_pending(positioned_upto: int, published_upto: int) -> int:
    published = 0
    while published_upto < positioned_upto:
        events = store.read_positions(published_upto, _BATCH)
        if not events:
            break
        try:
            _publish(events)
        except Exception:
            # Redis down: the events are safe in the log; SSE clients get them when
            # they reconnect, and the next run publishes from here.
            logger.warning("feed: live publish failed", extra={"published_upto": published_upto}, exc_info=True)
            break
        published_upto = events[-1].position
        published += len(events)
        _mark_published(published_upto)
    return published


def _mark_published(published_upto: int) -> None:
    # The mark only saves work: should a crash lose it, the next run publishes those
    # events again, and SSE clients know them by their ids.
    sql = _without_waiting_for_the_disk(
        "UPDATE finance_feed_state SET published_upto = %s WHERE id = 1 AND published_upto < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [published_upto, published_upto])


def _without_waiting_for_the_disk(sql: str) -> str:
    """``sql`` run as a transaction of its own whose commit returns before it is on disk
    (Postgres, autocommit: several statements in one query string are one transaction).
    Only for writes that the next run can redo exactly; never inside a caller's
    transaction, which may hold events."""
    if connection.vendor == "postgresql" and connection.get_autocommit():
        return "SET LOCAL synchronous_commit TO OFF; " + sql
    return sql


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
