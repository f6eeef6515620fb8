"""Commands retried after a concurrent append: a retry locks the streams it lost on, so
it cannot lose to the same writers again."""

import pytest
from django.db import connection

from finance import services
from ledger import models
from tests.concurrency import run_in_threads


@pytest.mark.django_db(transaction=True)
def test_writers_racing_on_one_aggregate_all_succeed_within_two_attempts(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks on streams: Postgres only (SQLite serialises writers instead)")
    # given: the chart exists, and a command gets one optimistic attempt and one retry
    services.account_open(code="1000", name="Cash", type="asset", parent=None, actor="setup")
    settings.FINANCE_COMMAND_RETRIES = 2

    # when: twelve writers open accounts in the one chart at the same moment
    def open_account(index: int):
        return services.account_open(code=f"70{index:02d}", name="Racing", type="expense", parent=None, actor="t")

    results = run_in_threads(12, open_account)

    # then: every one of them succeeded, each account opened once
    assert [type(result).__name__ for result in results] == ["Account"] * 12
    opened = models.Account.objects.filter(type="expense").values_list("code", flat=True)
    assert sorted(opened) == [f"70{i:02d}" for i in range(12)]
