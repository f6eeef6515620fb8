import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from finance import services
from finance.domain.journal import LineInput
from ledger import models, rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(chart):
    services.journal_entry_post(
        date=date(2026, 1, 2),
        description="a",
        currency="USD",
        actor="t",
        lines=[LineInput("1000", debit=Decimal("10.00")), LineInput("4000", credit=Decimal("10.00"))],
    )
    return chart


def test_verify_passes_on_live_read_models_and_names_a_drifted_table(books):
    assert set(rebuild.verify().values()) == {0}
    call_command("verify_projections", "--no-progress")

    models.AccountDailyTotal.objects.update(debit=Decimal("11.00"))

    differences = rebuild.verify()
    assert differences["ledger_account_daily_total"] > 0
    assert sum(differences.values()) == differences["ledger_account_daily_total"]
    with pytest.raises(CommandError, match="differ"):
        call_command("verify_projections", "--no-progress")


def test_rebuild_restores_what_was_lost(books):
    models.JournalLine.objects.all().delete()
    models.Account.objects.filter(code="4000").delete()

    call_command("rebuild_projections", "--no-progress")

    assert set(rebuild.verify().values()) == {0}
    assert models.JournalLine.objects.count() == 2
    assert models.Account.objects.get(code="4000").name == "Sales"


def test_the_database_itself_refuses_an_unbalanced_entry_at_commit(books):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no deferred constraint triggers; there the domain check is the only one")
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = models.JournalEntry.objects.create(
            id=uuid.uuid4(),
            date=date(2026, 1, 3),
            description="forged",
            currency="USD",
            source="manual",
            status="posted",
            version=1,
            recorded_at="2026-01-03T00:00:00Z",
            recorded_seq=10**9,
        )
        models.JournalLine.objects.create(
            entry=entry, line_no=1, date=entry.date, account="1000", currency="USD", debit=Decimal("5.00"), credit=0
        )
        models.JournalLine.objects.create(
            entry=entry, line_no=2, date=entry.date, account="4000", currency="USD", debit=0, credit=Decimal("4.00")
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do
