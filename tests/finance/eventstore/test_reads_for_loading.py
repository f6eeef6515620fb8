import uuid

import pytest

from finance.eventstore import store

META = {"actor": "test", "request_id": "r1", "correlation_id": "c1", "causation_id": "c1"}


def stream_of(count: int) -> str:
    stream = f"test-{uuid.uuid4()}"
    new = [store.NewEvent(type=f"E{n}", schema_version=1, data={"n": n}) for n in range(1, count + 1)]
    store.append([store.Append(stream, "test", 0, new)], metadata=META)
    return stream


@pytest.mark.django_db
def test_payloads_are_the_events_after_a_version_in_order():
    stream = stream_of(4)

    payloads = store.read_payloads(stream, after_version=2)

    assert payloads == [
        store.EventPayload(version=3, type="E3", schema_version=1, data={"n": 3}),
        store.EventPayload(version=4, type="E4", schema_version=1, data={"n": 4}),
    ]


@pytest.mark.django_db
def test_the_tail_of_a_stream_without_snapshots_is_every_event():
    stream = stream_of(3)

    tail = store.read_tail(stream, snapshots=3)

    assert tail.snapshots == []
    assert [event.version for event in tail.events] == [1, 2, 3]


@pytest.mark.django_db
def test_the_tail_holds_the_newest_snapshots_newest_first_and_the_events_after_the_newest():
    stream = stream_of(6)
    for version, schema_version in ((2, 1), (3, 1), (4, 1), (4, 2)):
        store.write_snapshot(stream, version=version, schema_version=schema_version, state={"at": version})

    tail = store.read_tail(stream, snapshots=3)

    assert [(s.version, s.schema_version) for s in tail.snapshots] == [(4, 2), (4, 1), (3, 1)]
    assert tail.snapshots[0].state == {"at": 4}
    assert all(store.snapshot_is_intact(snapshot) for snapshot in tail.snapshots)
    assert [(event.version, event.type, event.data) for event in tail.events] == [
        (5, "E5", {"n": 5}),
        (6, "E6", {"n": 6}),
    ]


@pytest.mark.django_db
def test_the_tail_of_a_stream_snapshotted_at_its_head_has_no_events():
    stream = stream_of(2)
    store.write_snapshot(stream, version=2, schema_version=1, state={"at": 2})

    tail = store.read_tail(stream, snapshots=3)

    assert [s.version for s in tail.snapshots] == [2]
    assert tail.events == []
