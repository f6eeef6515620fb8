import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import singledispatchmethod
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance import repository, tasks
from finance.domain.aggregate import Aggregate
from finance.domain.chart import ChartOfAccounts
from finance.domain.errors import DomainError
from finance.domain.events import DomainEvent, event
from finance.eventstore import store
from finance.eventstore.upcasting import event_upcaster, snapshot_upcaster

META = {"actor": "test", "request_id": "r", "correlation_id": "r", "causation_id": "r"}


# --- a small aggregate whose event and state changed shape over time ------------------


@event
class TallyAdded(DomainEvent):
    SCHEMA_VERSION = 2  # version 1 called the amount "value" and had no note
    amount: Decimal
    note: str


@event_upcaster("TallyAdded", 1)
def _tally_added_v1(data: dict) -> dict:
    return {"amount": data["value"], "note": "(before notes)"}


@dataclass
class Tally(Aggregate):
    TYPE = "test-tally"
    SCHEMA_VERSION = 2  # version 1 stored the total as "sum"

    total: Decimal = Decimal(0)
    notes: tuple[str, ...] = ()

    def add(self, amount: Decimal, note: str) -> None:
        self._record(TallyAdded(amount=amount, note=note))

    @singledispatchmethod
    def apply(self, event: DomainEvent) -> None:
        raise TypeError(event)

    @apply.register
    def _(self, e: TallyAdded) -> None:
        self.total += e.amount
        self.notes = (*self.notes, e.note)


@snapshot_upcaster("test-tally", 1)
def _tally_state_v1(state: dict) -> dict:
    return {"id": state["id"], "total": state["sum"], "notes": []}


@pytest.fixture
def tally_registered(monkeypatch):
    monkeypatch.setitem(repository.AGGREGATE_TYPES, Tally.TYPE, Tally)


def append_raw(stream_id: str, stream_type: str, version: int, event_type: str, schema: int, data: dict) -> None:
    store.append(
        [store.Append(stream_id, stream_type, version, [store.NewEvent(event_type, schema, data)])], metadata=META
    )


# --- snapshot + tail equals full replay ---------------------------------------------

CODES = ["1000", "1100", "1200", "4000", "4100"]
operations = st.lists(
    st.tuples(
        st.sampled_from(["open", "rename", "deactivate", "reactivate", "snapshot"]),
        st.sampled_from(CODES),
        st.text(alphabet="abcdefgh ", min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.django_db
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=operations)
def test_loading_from_a_snapshot_and_the_tail_equals_a_full_replay(history):
    chart_id = str(uuid.uuid4())
    for operation, code, text in history:
        chart = repository.load(ChartOfAccounts, chart_id)
        try:
            if operation == "open":
                chart.open_account(code=code, name=text, type="asset" if code < "4" else "revenue", parent=None)
            elif operation == "rename":
                chart.update_account(code, name=text)
            elif operation == "deactivate":
                chart.deactivate(code, balance_is_zero=True)
            elif operation == "reactivate":
                chart.reactivate(code)
            elif chart.version:
                repository.snapshot(chart.stream_id, ChartOfAccounts.TYPE)
        except DomainError:
            continue  # an invalid command changes nothing, which is part of the property
        repository.save([chart], actor="test")

    from_snapshot = repository.load(ChartOfAccounts, chart_id)
    replayed = repository.load(ChartOfAccounts, chart_id, use_snapshots=False)

    assert from_snapshot.version == replayed.version
    assert from_snapshot.to_state() == replayed.to_state()


# --- snapshots are a checked cache --------------------------------------------------


@pytest.mark.django_db
def test_a_snapshot_of_another_schema_version_is_skipped_and_replaced(tally_registered):
    tally = Tally(id=str(uuid.uuid4()))
    tally.add(Decimal("2.50"), "a")
    tally.add(Decimal("1.50"), "b")
    repository.save([tally], actor="test")
    # A snapshot written by some future code whose state this code cannot read.
    store.write_snapshot(tally.stream_id, version=2, schema_version=9, state={"id": tally.id, "weird": True})

    loaded = repository.load(Tally, tally.id)

    assert (loaded.total, loaded.notes, loaded.version) == (Decimal("4.00"), ("a", "b"), 2)
    due = store.streams_due_for_snapshot(every=50, schema_versions={Tally.TYPE: Tally.SCHEMA_VERSION})
    assert (tally.stream_id, Tally.TYPE) in due
    assert repository.snapshot(tally.stream_id, Tally.TYPE) is True
    assert (tally.stream_id, Tally.TYPE) not in store.streams_due_for_snapshot(
        every=50, schema_versions={Tally.TYPE: Tally.SCHEMA_VERSION}
    )


@pytest.mark.django_db
def test_a_damaged_snapshot_is_skipped(tally_registered):
    tally = Tally(id=str(uuid.uuid4()))
    tally.add(Decimal("3.00"), "a")
    repository.save([tally], actor="test")
    repository.snapshot(tally.stream_id, Tally.TYPE)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE finance_snapshot SET state = %s WHERE stream_id = %s",
            ['{"id":"x","notes":[],"total":"999.00"}', tally.stream_id],
        )

    assert repository.load(Tally, tally.id).total == Decimal("3.00")


@pytest.mark.django_db
def test_deleting_every_snapshot_changes_nothing_but_speed(tally_registered):
    tally = Tally(id=str(uuid.uuid4()))
    for index in range(7):
        tally.add(Decimal(index), str(index))
    repository.save([tally], actor="test")
    repository.snapshot(tally.stream_id, Tally.TYPE)
    with_snapshot = repository.load(Tally, tally.id).to_state()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM finance_snapshot WHERE stream_id = %s", [tally.stream_id])

    assert repository.load(Tally, tally.id).to_state() == with_snapshot


@pytest.mark.django_db
def test_old_events_are_upcast_on_read():
    stream_id = f"{Tally.TYPE}-{uuid.uuid4()}"
    append_raw(stream_id, Tally.TYPE, 0, "TallyAdded", 1, {"value": "5.00"})
    append_raw(stream_id, Tally.TYPE, 1, "TallyAdded", 2, {"amount": "1.00", "note": "new"})

    loaded = repository.load(Tally, stream_id.removeprefix(f"{Tally.TYPE}-"))

    assert loaded.total == Decimal("6.00")
    assert loaded.notes == ("(before notes)", "new")
    assert store.read_stream(stream_id)[0].data == {"value": "5.00"}, "the stored event itself never changes"


@pytest.mark.django_db
def test_old_snapshots_are_upcast_on_read():
    tally_id = str(uuid.uuid4())
    stream_id = f"{Tally.TYPE}-{tally_id}"
    append_raw(stream_id, Tally.TYPE, 0, "TallyAdded", 2, {"amount": "5.00", "note": "a"})
    append_raw(stream_id, Tally.TYPE, 1, "TallyAdded", 2, {"amount": "1.00", "note": "b"})
    # A version-1 snapshot at version 1 that says 100: only the upcast snapshot can give 101.
    store.write_snapshot(stream_id, version=1, schema_version=1, state={"id": tally_id, "sum": "100.00"})

    assert repository.load(Tally, tally_id).total == Decimal("101.00")


# --- the tasks that write snapshots -------------------------------------------------


@pytest.mark.django_db
def test_the_beat_task_snapshots_due_streams_once(settings, tally_registered):
    settings.FINANCE_SNAPSHOT_EVERY = 5
    busy, quiet = Tally(id=str(uuid.uuid4())), Tally(id=str(uuid.uuid4()))
    for index in range(6):
        busy.add(Decimal(1), str(index))
    quiet.add(Decimal(1), "only")
    repository.save([busy, quiet], actor="test")

    assert tasks.snapshot_due_streams() == 1
    assert tasks.snapshot_due_streams() == 0
    assert store.snapshots_of(busy.stream_id, limit=5)[0].version == 6
    assert store.snapshots_of(quiet.stream_id, limit=5) == []


@pytest.mark.django_db(transaction=True)
def test_an_append_crossing_the_threshold_enqueues_a_snapshot_after_commit(settings, monkeypatch, tally_registered):
    settings.FINANCE_SNAPSHOT_EVERY = 3
    enqueued = []
    monkeypatch.setattr(
        tasks.snapshot_stream,
        "apply_async",
        lambda args, **options: enqueued.append(tuple(args)) or tasks.snapshot_stream(*args),
    )
    tally = Tally(id=str(uuid.uuid4()))
    tally.add(Decimal(1), "a")
    tally.add(Decimal(1), "b")
    repository.save([tally], actor="test")
    assert enqueued == []

    tally.add(Decimal(1), "c")
    repository.save([tally], actor="test")

    assert enqueued == [(tally.stream_id, Tally.TYPE)]
    assert store.snapshots_of(tally.stream_id, limit=1)[0].version == 3


@pytest.mark.django_db(transaction=True)
def test_after_a_failed_enqueue_writers_leave_due_streams_to_beat_for_a_while(settings, monkeypatch, tally_registered):
    # given: the broker cannot be reached
    settings.FINANCE_SNAPSHOT_EVERY = 1
    monkeypatch.setattr(repository, "_enqueue_paused_until", 0.0)
    attempts = []

    def broker_unreachable(args, **options):
        attempts.append(tuple(args))
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.snapshot_stream, "apply_async", broker_unreachable)
    first, second = Tally(id=str(uuid.uuid4())), Tally(id=str(uuid.uuid4()))
    first.add(Decimal(1), "a")
    second.add(Decimal(1), "b")

    # when: two appends cross the threshold, one after the other
    repository.save([first], actor="test")
    repository.save([second], actor="test")

    # then: both writes succeeded, one enqueue was tried, and beat finds both streams due
    assert attempts == [(first.stream_id, Tally.TYPE)]
    assert tasks.snapshot_due_streams() == 2


@pytest.mark.django_db
def test_snapshot_command_covers_every_stream_with_all(chart):
    out = StringIO()
    call_command("snapshot", "--all", "--no-progress", stdout=out)
    assert out.getvalue().startswith("1 snapshots written")
    call_command("snapshot", "--all", "--no-progress", stdout=out)
    assert "0 snapshots written" in out.getvalue()
