"""Every list, page and report of the back office runs a fixed number of queries,
however many rows it shows: counts are pinned with realistic books, then the books
grow and the counts must not move (no N+1)."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from finance.models import Event
from ledger import models
from tests.admin import books

pytestmark = pytest.mark.django_db

START = date(2026, 7, 1)


def pages() -> dict[str, str]:
    """Every back-office page, with its rows picked from the books as they are now."""
    entry = models.JournalEntry.objects.filter(source="invoice").order_by("recorded_seq").first()
    invoice = models.Invoice.objects.filter(status="partially_paid").order_by("recorded_seq").first()
    payment = models.Payment.objects.filter(allocated__gt=0).order_by("recorded_seq").first()
    event = Event.objects.order_by("sequence").first()
    return {
        # lists
        "accounts": reverse("admin:ledger_account_changelist"),
        "journal entries": reverse("admin:ledger_journalentry_changelist"),
        "journal entries of an account": reverse("admin:ledger_journalentry_changelist") + "?account=5000",
        "journal entries, facets asked": reverse("admin:ledger_journalentry_changelist") + "?_facets=True",
        "journal entries in a month": reverse("admin:ledger_journalentry_changelist")
        + "?date__year=2026&date__month=8",
        "invoices": reverse("admin:ledger_invoice_changelist"),
        "overdue invoices": reverse("admin:ledger_invoice_changelist") + "?overdue=yes",
        "invoices found": reverse("admin:ledger_invoice_changelist") + "?q=ACME",
        "payments": reverse("admin:ledger_payment_changelist"),
        "closed periods": reverse("admin:ledger_closedperiod_changelist"),
        "events": reverse("admin:finance_event_changelist"),
        "events of a type": reverse("admin:finance_event_changelist") + "?type=InvoiceIssued",
        "streams": reverse("admin:finance_stream_changelist"),
        # one object
        "account": reverse("admin:ledger_account_change", args=["1000"]),
        "chart": reverse("admin:ledger_account_chart"),
        "journal entry": reverse("admin:ledger_journalentry_change", args=[entry.id]),
        "invoice": reverse("admin:ledger_invoice_change", args=[invoice.id]),
        "payment": reverse("admin:ledger_payment_change", args=[payment.id]),
        "closed period": reverse("admin:ledger_closedperiod_change", args=["2026-07"]),
        "event": reverse("admin:finance_event_change", args=[event.sequence]),
        # forms
        "post an entry": reverse("admin:ledger_journalentry_add"),
        "draft an invoice": reverse("admin:ledger_invoice_add"),
        "pay an invoice": reverse("admin:ledger_payment_add") + f"?invoice={invoice.id}",
        "allocate a payment": reverse("admin:ledger_payment_allocate", args=[payment.id]),
        # reports
        "trial balance": reverse("admin-reports:trial-balance") + "?as_of=2026-12-31",
        "trial balance csv": reverse("admin-reports:trial-balance") + "?as_of=2026-12-31&format=csv",
        "balance sheet": reverse("admin-reports:balance-sheet") + "?as_of=2026-12-31",
        "income statement": reverse("admin-reports:income-statement") + "?date_from=2026-01-01&date_to=2026-12-31",
        "ar aging": reverse("admin-reports:ar-aging") + "?as_of=2026-12-31",
        "account statement": reverse("admin-reports:account-statement") + "?account=1000&currency=USD",
        "live activity": reverse("admin-reports:live-activity"),
    }


# An accountant's page costs four queries before it starts: session, user, and the
# user's and groups' permissions. The content-type cache is emptied before each page so
# the first visit's lookup counts every time.
EXPECTED = {
    "accounts": 8,  # capped count, rows, balances of the page, the chart's parents
    "journal entries": 9,  # accounts for the filter, count, rows, date range, years
    "journal entries of an account": 9,
    "journal entries, facets asked": 9,  # facet counts are never run
    "journal entries in a month": 8,  # days of the month instead of range and years
    "invoices": 8,
    "overdue invoices": 8,
    "invoices found": 8,
    "payments": 8,
    "closed periods": 7,  # count, rows, the periods' stream
    "events": 6,
    "events of a type": 6,
    "streams": 6,
    "account": 9,
    "chart": 7,
    "journal entry": 8,
    "invoice": 9,
    "payment": 10,
    "closed period": 7,
    "event": 6,
    "post an entry": 5,
    "draft an invoice": 5,
    "pay an invoice": 6,
    "allocate a payment": 6,
    "trial balance": 6,
    "trial balance csv": 6,
    "balance sheet": 6,
    "income statement": 6,
    "ar aging": 6,
    "account statement": 6,
    "live activity": 6,
}


def visit_every_page(client, django_assert_num_queries) -> None:
    for name, url in pages().items():
        ContentType.objects.clear_cache()
        with django_assert_num_queries(EXPECTED[name], info=name):
            response = client.get(url)
        assert response.status_code == 200, name


@pytest.fixture
def realistic_books(db):
    books.open_chart()
    books.activity(entries=60, invoices=30, payments=12, start=START)
    books.services.period_close(period="2026-07", actor=books.ACTOR)


def test_every_page_runs_a_fixed_number_of_queries_however_many_rows(
    as_accountant, realistic_books, django_assert_num_queries
):
    visit_every_page(as_accountant, django_assert_num_queries)

    books.activity(entries=60, invoices=30, payments=12, start=date(2026, 8, 1))

    assert models.JournalEntry.objects.count() > 2 * 50  # more than two pages of entries
    visit_every_page(as_accountant, django_assert_num_queries)
