"""The cache (finance/cache.py): aggregates from their cached state, reports by log mark;
never a stale answer, and never a failed request when the cache fails."""

import uuid

import pytest
from django.core.cache import cache as django_cache
from django.db import connection, transaction
from django.test import override_settings

from finance import cache, repository
from finance.domain.chart import ChartOfAccounts
from finance.eventstore import feed
from tests.concurrency import run_in_threads
from tests.finance.api.test_invoices_and_payments import draft, issue, pay


def new_chart(accounts: int) -> ChartOfAccounts:
    chart = repository.load(ChartOfAccounts, f"cache-{uuid.uuid4()}")
    for n in range(1, accounts + 1):
        chart.open_account(code=str(1000 + n), name=f"Account {n}", type="asset", parent=None)
        repository.save([chart], actor="test")
    return chart


def cached(chart: ChartOfAccounts) -> cache.CachedState | None:
    return cache.get_aggregate(chart.stream_id, ChartOfAccounts.SCHEMA_VERSION)


def replayed(chart: ChartOfAccounts) -> ChartOfAccounts:
    return repository.load(ChartOfAccounts, chart.id, use_snapshots=False)


def load_source(chart_id: str) -> str:
    """Where ``repository.load`` took the chart from (the label it counted)."""
    from finance import metrics

    before = {
        source: metrics.AGGREGATE_LOAD_SECONDS.labels(aggregate="chart", source=source)._sum.get()
        for source in ("cache", "snapshot", "replay")
    }
    repository.load(ChartOfAccounts, chart_id)
    after = {
        source: metrics.AGGREGATE_LOAD_SECONDS.labels(aggregate="chart", source=source)._sum.get() for source in before
    }
    return next(source for source in before if after[source] != before[source])


@pytest.mark.django_db
def test_a_save_writes_the_state_through_and_the_next_load_takes_it_in_one_query(django_assert_num_queries):
    chart = new_chart(3)

    assert cached(chart).version == 3
    with django_assert_num_queries(1):
        loaded = repository.load(ChartOfAccounts, chart.id)

    assert loaded == replayed(chart) == chart
    assert load_source(chart.id) == "cache"


@pytest.mark.django_db
def test_an_older_cached_version_gets_the_later_events_in_the_same_query(django_assert_num_queries):
    chart = new_chart(2)
    older = cached(chart)
    chart.open_account(code="2001", name="Later", type="liability", parent=None)
    repository.save([chart], actor="test")
    django_cache.set(f"aggregate:{ChartOfAccounts.SCHEMA_VERSION}:{chart.stream_id}", older)

    with django_assert_num_queries(1):
        loaded = repository.load(ChartOfAccounts, chart.id)

    assert loaded.version == 3
    assert "2001" in loaded.accounts
    assert loaded == replayed(chart)
    assert cached(chart).version == 3  # moved forward


@pytest.mark.django_db
def test_an_entry_from_another_history_at_the_same_version_is_ignored():
    chart = new_chart(2)
    other = new_chart(2)  # same version, other accounts and hashes
    django_cache.set(f"aggregate:{ChartOfAccounts.SCHEMA_VERSION}:{chart.stream_id}", cached(other))

    assert load_source(chart.id) == "replay"
    assert repository.load(ChartOfAccounts, chart.id) == replayed(chart)
    assert cached(chart).event_hash != cached(other).event_hash


@pytest.mark.django_db
def test_a_write_that_rolls_back_leaves_an_entry_that_no_load_believes():
    chart = new_chart(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        chart.open_account(code="9999", name="Never", type="asset", parent=None)
        repository.save([chart], actor="test")
        assert cached(chart).version == 3
        raise RuntimeError("roll back")

    loaded = repository.load(ChartOfAccounts, chart.id)

    assert loaded.version == 2
    assert "9999" not in loaded.accounts
    assert loaded == replayed(chart)
    assert cached(chart).version == 2  # the load replaced the entry


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_leave_a_load_behind(accountant, chart):
    """Eight clients issue invoices at once: each issue loads and moves the year's
    invoice numbering, through the cache; numbers stay gap-free and every load after the
    writers equals a full replay."""
    from finance.domain.numbering import InvoiceNumbering

    drafts = [draft(accountant) for _ in range(8)]

    def issue_one(index: int):
        return accountant.post(
            f"/api/v1/invoices/{drafts[index]['id']}/issue/", {"issue_date": "2026-03-31"}, format="json"
        ).json()

    issued = run_in_threads(8, issue_one)

    assert all("number" in invoice for invoice in issued), issued
    assert sorted(invoice["number"] for invoice in issued) == [f"INV-2026-{n:06d}" for n in range(1, 9)]
    through_cache = repository.load(InvoiceNumbering, "2026")
    assert through_cache == repository.load(InvoiceNumbering, "2026", use_snapshots=False)
    assert through_cache.version == 8


@pytest.mark.django_db
def test_a_report_read_right_after_a_write_sees_it(accountant, chart, django_assert_num_queries):
    before = accountant.get("/api/v1/reports/trial-balance/?as_of=2026-12-31").json()
    with django_assert_num_queries(2):  # token with roles, log mark: the report itself is cached
        again = accountant.get("/api/v1/reports/trial-balance/?as_of=2026-12-31").json()
    assert again == before

    pay(accountant, "25.00")
    after = accountant.get("/api/v1/reports/trial-balance/?as_of=2026-12-31").json()

    assert {row["account"]: row["balance"] for row in after["rows"]}["1000"] == "25.00"
    assert after != before


@pytest.mark.django_db(transaction=True)
def test_a_report_sees_a_write_the_feed_has_not_positioned_yet(accountant, chart, on_postgres):
    """A transaction older than the write still runs, so the feed cannot position the
    write's events; the report must see the write all the same."""
    if not on_postgres:
        pytest.skip("SQLite has one writer at a time: no older transaction can be running")
    import psycopg

    accountant.get("/api/v1/reports/ar-aging/?as_of=2026-12-31")
    settings_dict = connection.settings_dict
    older = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
    )
    try:
        with older.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # holds a transaction id open
        positioned = feed.last_position()
        invoice = issue(accountant, draft(accountant))
        assert feed.last_position() == positioned  # the issue's events wait behind it

        aging = accountant.get("/api/v1/reports/ar-aging/?as_of=2026-12-31").json()

        assert aging["totals"]["USD"]["total"] == invoice["total"]
    finally:
        older.rollback()
        older.close()


@pytest.mark.django_db
def test_with_the_cache_down_writes_and_reads_still_work(accountant, chart):
    down = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            # As configured for production (config/settings.py).
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    with override_settings(CACHES=down):
        invoice = issue(accountant, draft(accountant))
        payment = pay(accountant, "10.00", [{"invoice": invoice["id"], "amount": "10.00"}])
        aging = accountant.get("/api/v1/reports/ar-aging/?as_of=2026-12-31")
        got = accountant.get(f"/api/v1/invoices/{invoice['id']}/").json()

    assert payment["allocated"] == "10.00"
    assert aging.status_code == 200
    assert got["amount_paid"] == "10.00"
