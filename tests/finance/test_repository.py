import uuid

import pytest
from django.db import connection

from finance import repository
from finance.domain.chart import ChartOfAccounts
from finance.eventstore import store


@pytest.fixture(autouse=True)
def _no_cache(settings):
    # These tests are about snapshots and replay; loads through the cache are tested in
    # test_cache.py.
    settings.FINANCE_CACHE = False


def chart_with(accounts: int, *, snapshot_every: int | None = None) -> ChartOfAccounts:
    """A fresh chart whose stream opens ``accounts`` accounts (one event each), saved
    one by one and snapshotted after every ``snapshot_every`` of them. Every event adds
    to the state, so a load that missed one would show."""
    chart = repository.load(ChartOfAccounts, f"test-{uuid.uuid4()}")
    for done in range(1, accounts + 1):
        chart.open_account(code=str(1000 + done), name=f"Account {done}", type="asset", parent=None)
        repository.save([chart], actor="test")
        if snapshot_every and done % snapshot_every == 0:
            repository.snapshot(chart.stream_id, ChartOfAccounts.TYPE)
    return chart


def codes(chart: ChartOfAccounts) -> list[str]:
    return sorted(chart.accounts)


def damage_snapshot(stream_id: str, version: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE finance_snapshot SET state = %s WHERE stream_id = %s AND version = %s",
            ['{"accounts":{}}', stream_id, version],
        )


@pytest.mark.django_db
def test_a_load_from_a_snapshot_with_later_events_equals_a_full_replay():
    saved = chart_with(7, snapshot_every=5)

    loaded = repository.load(ChartOfAccounts, saved.id)
    replayed = repository.load(ChartOfAccounts, saved.id, use_snapshots=False)

    assert loaded == replayed == saved
    assert loaded.version == 7
    assert codes(loaded) == [str(1000 + n) for n in range(1, 8)]


@pytest.mark.django_db
def test_a_load_with_a_usable_newest_snapshot_takes_one_query(django_assert_num_queries):
    saved = chart_with(6, snapshot_every=3)

    with django_assert_num_queries(1):
        loaded = repository.load(ChartOfAccounts, saved.id)

    assert loaded == saved
    assert loaded.version == 6


@pytest.mark.django_db
def test_a_damaged_newest_snapshot_falls_back_to_an_older_one_and_the_events_after_it(django_assert_num_queries):
    saved = chart_with(7, snapshot_every=3)
    damage_snapshot(saved.stream_id, 6)

    with django_assert_num_queries(2):
        loaded = repository.load(ChartOfAccounts, saved.id)

    assert loaded == saved
    assert loaded.version == 7


@pytest.mark.django_db
def test_with_no_usable_snapshot_the_stream_is_replayed_from_the_start():
    saved = chart_with(4, snapshot_every=4)
    damage_snapshot(saved.stream_id, 4)
    # An older schema version with no upcaster registered cannot be used either.
    store.write_snapshot(saved.stream_id, version=2, schema_version=0, state={"accounts": {}})

    loaded = repository.load(ChartOfAccounts, saved.id)

    assert loaded == saved
    assert codes(loaded) == ["1001", "1002", "1003", "1004"]


@pytest.mark.django_db
def test_a_stream_that_does_not_exist_loads_at_version_zero(django_assert_num_queries):
    with django_assert_num_queries(1):
        loaded = repository.load(ChartOfAccounts, f"test-{uuid.uuid4()}")

    assert (loaded.version, loaded.accounts, loaded.exists) == (0, {}, False)
