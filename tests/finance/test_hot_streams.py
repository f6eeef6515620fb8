"""The year's invoice numbering is one stream that every issue appends to: concurrent
issues queue on it instead of racing to append and retrying."""

import pytest

from finance import metrics
from tests.concurrency import run_in_threads
from tests.finance.api.test_invoices_and_payments import draft
from tests.finance.api.test_invoices_and_payments import issue as issue_one


def conflicts() -> float:
    """Appends refused so far, of every stream type."""
    return sum(
        sample.value
        for family in metrics.CONCURRENCY_CONFLICTS.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_queue_on_the_numbering_instead_of_conflicting(accountant, chart, on_postgres):
    if not on_postgres:
        pytest.skip("SQLite has one writer at a time: issues cannot race there")
    issue_one(accountant, draft(accountant))  # the year's numbering stream exists from here
    drafts = [draft(accountant) for _ in range(8)]
    before = conflicts()

    def issue(index: int) -> int:
        return accountant.post(
            f"/api/v1/invoices/{drafts[index]['id']}/issue/", {"issue_date": "2026-03-31"}, format="json"
        ).status_code

    statuses = run_in_threads(8, issue)

    assert statuses == [200] * 8
    assert conflicts() == before
