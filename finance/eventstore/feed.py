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

After every commit the writer runs the positioner and publishes the newly positioned
events to the live SSE stream; a Celery beat task does the same every few seconds for
events that were held back by a transaction still running at the time.
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
        cursor.execute(
            "INSERT INTO finance_feed_state (id, last_transaction_id, last_sequence, positioned_upto, published_upto)"
            " VALUES (1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
        )
        return 0, 0, 0, 0
    return row


def _horizon() -> int | None:
    """The oldest transaction id in this database that may still commit (Postgres): every
    event written by an older transaction is committed or rolled back, and visible to
    any snapshot taken after this call. Transactions that start later get larger ids."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL)
        return cursor.fetchone()[0]


# The snapshot's in-progress xid8s whose low 32 bits are the xid of a backend of this
# database (pg_stat_activity.backend_xid is a 32-bit xid); else the next xid to come.
_HORIZON_SQL = """
    SELECT LEAST(
        pg_snapshot_xmax(s)::text::bigint,
        (SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(s) AS x
         WHERE x::text::bigint % 4294967296 IN (
             SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL)))
    FROM pg_current_snapshot() AS s
"""


def _position_batch() -> int:
    """Position the next batch of committable events; return how many got a position."""
    horizon = _horizon()
    with transaction.atomic(), connection.cursor() as cursor:
        last_txid, last_sequence, positioned_upto, _ = _state(cursor)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sequence, transaction_id FROM finance_event"
                " WHERE (transaction_id, sequence) > (%s, %s) AND transaction_id < %s"
                " ORDER BY transaction_id, sequence LIMIT %s",
                [last_txid, last_sequence, horizon, _BATCH],
            )
        else:
            cursor.execute(
                "SELECT sequence, 0 FROM finance_event WHERE sequence > %s ORDER BY sequence LIMIT %s",
                [last_sequence, _BATCH],
            )
        rows = cursor.fetchall()
        if not rows:
            return 0
        params: list = []
        for offset, (sequence, _) in enumerate(rows, start=1):
            params += [positioned_upto + offset, sequence]
        cursor.execute(
            "INSERT INTO finance_feed (position, event_sequence) VALUES " + ", ".join(["(%s, %s)"] * len(rows)),
            params,
        )
        last_sequence, last_txid = rows[-1]
        cursor.execute(
            "UPDATE finance_feed_state SET last_transaction_id = %s, last_sequence = %s, positioned_upto = %s"
            " WHERE id = 1",
            [last_txid, last_sequence, positioned_upto + len(rows)],
        )
        return len(rows)


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
        while _position_batch() == _BATCH:
            pass
        return _publish_pending()


def _publish_pending() -> int:
    with connection.cursor() as cursor:
        _, _, positioned_upto, published_upto = _state(cursor)
    published = 0
    while published_upto < positioned_upto:
        events = store.read_positions(published_upto, _BATCH)
        try:
            for event in events:
                _publish(event)
                published_upto = event.position
                published += 1
        except Exception:
            # Redis down: the events are safe in the log; SSE clients get them when
            # they reconnect, and the next run publishes from here.
            logger.warning("feed: live publish failed", extra={"published_upto": published_upto}, exc_info=True)
            break
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE finance_feed_state SET published_upto = %s WHERE id = 1 AND published_upto < %s",
                    [published_upto, published_upto],
                )
    return published


def _publish(event: store.RecordedEvent) -> None:
    """Wake the SSE streams of every process (django-eventstream's listeners, through
    Redis when configured); each stream then reads the feed itself (see ``sse``)."""
    from django_eventstream import eventstream
    from django_eventstream.event import Event
    from django_eventstream.views import get_listener_manager

    if eventstream.redis_client is not None:
        eventstream.redis_client.publish(
            "events_channel",
            json.dumps({"channel": CHANNEL, "event_type": "message", "data": "", "pub_id": event.position}),
        )
    else:
        get_listener_manager().add_to_queues(CHANNEL, Event(CHANNEL, "message", "", id=event.position))


def read(*, after: int, limit: int) -> list[store.RecordedEvent]:
    """Events after position ``after``, in position order; positions any committable
    events first so a poller sees its own writes at once."""
    advance_and_publish(wait=False)
    return store.read_positions(after, limit)


def last_position() -> int:
    with connection.cursor() as cursor:
        return _state(cursor)[2]
