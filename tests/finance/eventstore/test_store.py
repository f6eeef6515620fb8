import random
import threading
import time
import uuid

import pytest
from django.db import DatabaseError, connection, connections, transaction

from finance.eventstore import feed, sqlite_guard, store
from finance.eventstore.verification import verify_chains
from tests.concurrency import run_in_threads

META = {"actor": "test", "request_id": "r1", "correlation_id": "c1", "causation_id": "c1"}


def new_stream() -> str:
    return f"test-{uuid.uuid4()}"


def events(*names: str) -> list[store.NewEvent]:
    return [store.NewEvent(type=name, schema_version=1, data={"name": name, "amount": "1.50"}) for name in names]


def append(stream_id: str, expected: int, *names: str) -> list[store.RecordedEvent]:
    return store.append([store.Append(stream_id, "test", expected, events(*names))], metadata=META)


@pytest.mark.django_db
def test_appended_events_read_back_in_version_order_with_their_metadata():
    stream = new_stream()
    append(stream, 0, "A", "B")
    append(stream, 2, "C")

    read = store.read_stream(stream)

    assert [(e.version, e.type) for e in read] == [(1, "A"), (2, "B"), (3, "C")]
    assert read[0].metadata == META
    assert read[0].data == {"name": "A", "amount": "1.50"}
    assert store.stream_version(stream) == 3
    assert store.read_stream(stream, after_version=2)[0].type == "C"


@pytest.mark.django_db
def test_append_at_a_stale_version_is_a_conflict_and_writes_nothing():
    stream = new_stream()
    append(stream, 0, "A")

    with pytest.raises(store.ConcurrencyConflict) as conflict:
        append(stream, 0, "B")
    assert conflict.value.actual_version == 1
    with pytest.raises(store.ConcurrencyConflict):
        append(stream, 5, "B")
    assert [e.type for e in store.read_stream(stream)] == ["A"]


@pytest.mark.django_db
def test_metadata_must_name_actor_and_request_ids():
    with pytest.raises(ValueError, match="actor"):
        store.append([store.Append(new_stream(), "test", 0, events("A"))], metadata={**META, "actor": ""})


@pytest.mark.django_db
def test_floats_never_reach_the_log():
    with pytest.raises(TypeError):
        store.append([store.Append(new_stream(), "test", 0, [store.NewEvent("A", 1, {"amount": 1.5})])], metadata=META)


@pytest.mark.django_db
def test_multi_stream_append_is_all_or_nothing():
    first, second = new_stream(), new_stream()
    append(second, 0, "existing")

    # second is at version 1, so claiming it at 0 fails: first must not be written either.
    with pytest.raises(store.ConcurrencyConflict):
        store.append(
            [store.Append(first, "test", 0, events("A")), store.Append(second, "test", 0, events("B"))],
            metadata=META,
        )

    assert store.stream_version(first) is None
    assert store.read_stream(first) == []
    assert [e.type for e in store.read_stream(second)] == ["existing"]

    store.append(
        [store.Append(first, "test", 0, events("A")), store.Append(second, "test", 1, events("B"))], metadata=META
    )
    assert store.stream_version(first) == 1
    assert store.stream_version(second) == 2


@pytest.mark.django_db(transaction=True)
def test_of_n_threads_appending_at_the_same_version_exactly_one_wins():
    stream = new_stream()
    append(stream, 0, "created")

    def contender(index: int):
        return append(stream, 1, f"by-{index}")

    results = run_in_threads(8, contender)

    winners = [r for r in results if isinstance(r, list)]
    conflicts = [r for r in results if isinstance(r, store.ConcurrencyConflict)]
    assert len(winners) == 1, results
    assert len(conflicts) == 7, results
    assert [e.type for e in store.read_stream(stream)] == ["created", winners[0][0].type]


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["UPDATE finance_event SET type = 'Forged'", "DELETE FROM finance_event"])
def test_database_refuses_to_change_or_delete_events(statement):
    append(new_stream(), 0, "A")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def tamper(sql: str, params: list) -> None:
    """Change an event behind the store's back, as an intruder with table access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or ALTER refuses
            cursor.execute("ALTER TABLE finance_event DISABLE TRIGGER finance_event_immutable")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE finance_event ENABLE TRIGGER finance_event_immutable")
        else:
            sqlite_guard.allow_mutation = True
            try:
                cursor.execute(sql, params)
            finally:
                sqlite_guard.allow_mutation = False


@pytest.mark.django_db
def test_verification_passes_on_an_untouched_log_and_names_a_tampered_event():
    stream = new_stream()
    append(stream, 0, "A", "B", "C")
    checked, bad = verify_chains()
    assert bad is None
    assert checked >= 3

    victim = store.read_stream(stream)[1]
    tamper("UPDATE finance_event SET data = %s WHERE sequence = %s", ['{"amount":"1000000.00"}', victim.sequence])

    _, bad = verify_chains()
    assert bad is not None
    assert bad.event_id == victim.event_id
    assert "hash" in bad.reason


@pytest.mark.django_db
def test_verification_notices_a_deleted_event():
    stream = new_stream()
    append(stream, 0, "A", "B", "C")
    victim = store.read_stream(stream)[2]

    tamper("DELETE FROM finance_event WHERE sequence = %s", [victim.sequence])

    _, bad = verify_chains()
    assert bad is not None
    assert bad.stream_id == stream


@pytest.mark.django_db(transaction=True)
def test_feed_hands_out_every_event_exactly_once_in_order_while_writers_commit_late():
    # Eight writers keep their transactions open for random times after appending, so
    # events with lower sequence numbers commit after higher ones, while a reader polls
    # the feed all along. It must see each event once, in position order, none skipped.
    writers, per_writer = 8, 6
    seen: list[store.RecordedEvent] = []

    def write(index: int) -> list[str]:
        stream, ids = new_stream(), []
        for version in range(per_writer):
            with transaction.atomic():
                ids.append(append(stream, version, f"w{index}")[0].event_id)
                time.sleep(random.uniform(0, 0.03))
        return ids

    def read_feed() -> None:
        # Reads until it has as many events as were written. Not "until the writers are
        # done and a read comes back empty": a transaction still running in this
        # database holds positioning back, so the last events may be positioned a little
        # after their writers finish. The deadline only keeps a broken feed from hanging
        # the suite; an event it skipped is never seen, whatever the wait.
        position = feed.last_position()
        deadline = time.monotonic() + 60
        try:
            while len(seen) < writers * per_writer and time.monotonic() < deadline:
                batch = feed.read(after=position, limit=50)
                seen.extend(batch)
                if batch:
                    position = batch[-1].position
                else:
                    time.sleep(0.002)
        finally:
            connections.close_all()

    reader = threading.Thread(target=read_feed)
    reader.start()
    results = run_in_threads(writers, write)
    reader.join(timeout=90)

    written = set()
    for result in results:
        assert isinstance(result, list), result
        written.update(result)
    positions = [event.position for event in seen]
    assert len(written) == writers * per_writer
    assert positions == sorted(positions), "the feed went back on its order"
    assert len(positions) == len(set(positions)), "an event was handed out twice"
    assert {event.event_id for event in seen} == written, "the feed skipped an event"
    assert positions == list(range(positions[0], positions[0] + len(positions))), "positions are not dense"


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back():
    if connection.vendor != "postgresql":
        pytest.skip("transaction ids are per-database concerns only on Postgres")
    import psycopg

    params = connection.get_connection_params()
    other = psycopg.connect(**{**params, "dbname": "postgres"})
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # holds an xid until rollback
        start = feed.last_position()
        append(new_stream(), 0, "A", "B")
        feed.advance_and_publish()
        assert [e.type for e in feed.read(after=start, limit=10)] == ["A", "B"]
    finally:
        other.rollback()
        other.close()
