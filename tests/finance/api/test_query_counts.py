"""Hot read endpoints cost a fixed number of queries, however much data there is: the
token with its user and roles, then one query per table the answer needs (no N+1)."""

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.finance.api.test_invoices_and_payments import draft, issue, pay

pytestmark = pytest.mark.django_db

READS = [
    ("/api/v1/accounts/", 2),
    ("/api/v1/accounts/1000/", 2),
    ("/api/v1/journal-entries/", 3),
    ("/api/v1/journal-entries/?account=1100&date_from=2026-01-01", 3),
    ("/api/v1/invoices/", 2),
    ("/api/v1/invoices/?overdue=true", 2),
    ("/api/v1/payments/", 3),
    ("/api/v1/reports/trial-balance/?as_of=2026-12-31", 4),  # + the log mark; a cache hit takes 2
    ("/api/v1/reports/balance-sheet/?as_of=2026-12-31", 4),  # + the log mark; a cache hit takes 2
    ("/api/v1/reports/income-statement/?from=2026-01-01&to=2026-12-31", 4),  # + the log mark; a cache hit takes 2
    ("/api/v1/reports/ar-aging/?as_of=2026-12-31", 4),  # + the log mark; a cache hit takes 2
    ("/api/v1/accounts/1100/statement/?from=2026-01-01", 4),
    ("/api/v1/periods/", 3),
]


def trade(client, invoices: int) -> None:
    for _ in range(invoices):
        invoice = issue(client, draft(client))
        pay(client, "10.00", [{"invoice": invoice["id"], "amount": "10.00"}])


@pytest.mark.parametrize(("path", "queries"), READS)
def test_reads_cost_the_same_few_queries_with_little_or_much_data(
    accountant, chart, django_assert_num_queries, path, queries
):
    trade(accountant, 2)
    with django_assert_num_queries(queries):
        assert accountant.get(path).status_code == 200
    trade(accountant, 8)
    with django_assert_num_queries(queries):
        assert accountant.get(path).status_code == 200


def test_detail_reads_cost_two_or_three_queries(accountant, chart, django_assert_num_queries):
    invoice = issue(accountant, draft(accountant))
    payment = pay(accountant, "10.00", [{"invoice": invoice["id"], "amount": "10.00"}])
    with django_assert_num_queries(2):
        accountant.get(f"/api/v1/invoices/{invoice['id']}/")
    with django_assert_num_queries(3):
        accountant.get(f"/api/v1/payments/{payment['id']}/")
    with django_assert_num_queries(3):
        accountant.get(f"/api/v1/journal-entries/{invoice['journal_entry']}/")


WRITES = {
    "post journal entry": lambda client: client.post(
        "/api/v1/journal-entries/",
        {
            "date": "2026-05-04",
            "description": "Supplies",
            "lines": [{"account": "5000", "debit": "12.50"}, {"account": "1000", "credit": "12.50"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    ),
    "create and issue invoice": lambda client: issue(client, draft(client)),
    "record payment": lambda client: pay(client, "10.00"),
}


# Statements per write inside the test's transaction (savepoints included: every write view
# runs in a transaction of its own, a savepoint here; the feed's
# positioner after commit is not): Postgres takes row locks that SQLite, with one writer
# at a time, does not need.
WRITE_QUERIES = {
    "post journal entry": {"postgresql": 23, "sqlite": 21},
    "create and issue invoice": {"postgresql": 37, "sqlite": 35},
    "record payment": {"postgresql": 21, "sqlite": 20},
}


@pytest.mark.parametrize("name", WRITES)
def test_writes_cost_the_same_queries_with_little_or_much_data(accountant, chart, name):
    """No write's query count grows with the books: the chart, the periods and the year's
    invoice numbering come from the cache in one query each, however long their streams."""
    write = WRITES[name]
    cache.clear()  # what earlier tests left in the cache must not change the counts
    trade(accountant, 2)
    with CaptureQueriesContext(connection) as few:
        response = write(accountant)
    trade(accountant, 8)
    with CaptureQueriesContext(connection) as many:
        write(accountant)

    assert getattr(response, "status_code", 201) in (200, 201)
    assert len(many) == len(few), [q["sql"][:80] for q in many.captured_queries]
    assert len(many) == WRITE_QUERIES[name][connection.vendor]
