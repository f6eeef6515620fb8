import socket
import time
import uuid

import pytest
import redis
from django.db import OperationalError, connection, connections

from finance.eventstore import feed, store

META = {"actor": "test", "request_id": "r1", "correlation_id": "c1", "causation_id": "c1"}


def redis_down(events):
    raise redis.ConnectionError("connection refused")


def append_events(count: int) -> list[store.RecordedEvent]:
    new = [store.NewEvent(type="Counted", schema_version=1, data={"n": n}) for n in range(count)]
    return store.append([store.Append(f"test-{uuid.uuid4()}", "test", 0, new)], metadata=META)


def positioned(events: list[store.RecordedEvent]) -> list[store.RecordedEvent]:
    """The events as the feed hands them out, once all of them have a position. A
    transaction still running in this database holds positioning back, so this runs the
    positioner until they have one; the deadline only stops a hang."""
    wanted = {event.event_id for event in events}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        feed.advance_and_publish()
        found = [event for event in store.read_positions(0, 10_000) if event.event_id in wanted]
        if len(found) == len(wanted):
            return found
        time.sleep(0.01)
    raise AssertionError("the events never got a position")


def feed_marks() -> tuple[int, int]:
    """(positioned up to, published up to)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT positioned_upto, published_upto FROM finance_feed_state WHERE id = 1")
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_positions_are_dense_in_append_order_and_every_positioned_event_is_published():
    first, second = append_events(3), append_events(2)

    handed_out = positioned(first + second)

    assert [event.event_id for event in handed_out] == [event.event_id for event in first + second]
    assert [event.position for event in handed_out] == [1, 2, 3, 4, 5]
    assert feed_marks() == (5, 5)


@pytest.mark.django_db(transaction=True)
def test_a_failed_live_publish_loses_nothing_and_the_next_run_publishes_it(monkeypatch):
    monkeypatch.setattr(feed, "_publish", redis_down)
    events = append_events(3)
    positioned(events)
    assert feed_marks() == (3, 0)

    monkeypatch.undo()
    published = feed.advance_and_publish()

    assert published == 3
    assert feed_marks() == (3, 3)


@pytest.mark.django_db(transaction=True)
def test_one_wake_up_of_the_live_streams_covers_a_whole_batch(monkeypatch):
    wake_ups: list[int] = []
    monkeypatch.setattr(feed, "_publish", wake_ups.append)

    events = append_events(1000)
    handed_out = positioned(events)

    assert wake_ups == [handed_out[-1].position] == [1000]
    assert feed_marks() == (1000, 1000)


def lock_is_free() -> bool:
    """Whether another session could take the positioners' advisory lock now."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [feed._ADVISORY_KEY])
            free = cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_unlock_all()")
        return free
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_positioner_turn_on_postgres_leaves_no_lock_and_no_asynchronous_commit_behind(on_postgres, monkeypatch):
    if not on_postgres:
        pytest.skip("advisory locks and synchronous_commit are Postgres matters; SQLite uses a thread lock")
    positioned(append_events(2))
    monkeypatch.setattr(feed, "_publish", redis_down)
    positioned(append_events(1))  # every turn that got to publishing failed there

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]

    assert lock_is_free()
    assert synchronous_commit == "on"


@pytest.mark.django_db(transaction=True)
def test_a_positioner_failing_after_the_commit_does_not_fail_the_write(monkeypatch):
    # The database went away just after the commit: the events are in, the write succeeded.
    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(feed, "advance_and_publish", database_gone)

    events = append_events(2)

    assert store.stream_version(events[0].stream_id) == 2


def test_after_a_failed_live_publish_writers_skip_it_for_a_while(monkeypatch, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EVENTSTREAM_REDIS = {"host": "127.0.0.1", "port": closed_port, "db": 0}
    monkeypatch.setattr(feed, "_publisher", None)
    monkeypatch.setattr(feed, "_paused_until", 0.0)

    with pytest.raises(redis.ConnectionError):
        feed._publish(1)
    with pytest.raises(feed.PublishPaused):
        feed._publish(2)
