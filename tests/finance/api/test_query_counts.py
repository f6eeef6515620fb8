"""Hot read endpoints cost a fixed number of queries, however much data there is: token,
roles, then one query per table the answer needs (no N+1)."""

import pytest

from tests.finance.api.test_invoices_and_payments import draft, issue, pay

pytestmark = pytest.mark.django_db

READS = [
    ("/api/v1/accounts/", 3),
    ("/api/v1/accounts/1000/", 3),
    ("/api/v1/journal-entries/", 4),
    ("/api/v1/journal-entries/?account=1100&date_from=2026-01-01", 4),
    ("/api/v1/invoices/", 3),
    ("/api/v1/invoices/?overdue=true", 3),
    ("/api/v1/payments/", 4),
    ("/api/v1/reports/trial-balance/?as_of=2026-12-31", 5),  # + the log mark; a cache hit takes 3
    ("/api/v1/reports/balance-sheet/?as_of=2026-12-31", 5),  # + the log mark; a cache hit takes 3
    ("/api/v1/reports/income-statement/?from=2026-01-01&to=2026-12-31", 5),  # + the log mark; a cache hit takes 3
    ("/api/v1/reports/ar-aging/?as_of=2026-12-31", 5),  # + the log mark; a cache hit takes 3
    ("/api/v1/accounts/1100/statement/?from=2026-01-01", 5),
    ("/api/v1/periods/", 4),
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


def test_detail_reads_cost_three_or_four_queries(accountant, chart, django_assert_num_queries):
    invoice = issue(accountant, draft(accountant))
    payment = pay(accountant, "10.00", [{"invoice": invoice["id"], "amount": "10.00"}])
    with django_assert_num_queries(3):
        accountant.get(f"/api/v1/invoices/{invoice['id']}/")
    with django_assert_num_queries(4):
        accountant.get(f"/api/v1/payments/{payment['id']}/")
    with django_assert_num_queries(4):
        accountant.get(f"/api/v1/journal-entries/{invoice['journal_entry']}/")
