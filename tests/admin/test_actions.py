"""Every back-office action runs its service; a domain error shows next to the field it
names and at the top of the page, and nothing is written."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from finance.eventstore import store
from finance.models import Event
from ledger import models, selectors
from tests.admin import books, forms_data

pytestmark = pytest.mark.django_db


def field_errors(response, form_name: str = "form") -> dict:
    return {name: list(errors) for name, errors in response.context[form_name].errors.items()}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- accounts -----------------------------------------------------------------------


def test_opening_an_account_runs_the_service_and_lands_on_its_page(as_accountant, chart):
    response = as_accountant.post(
        reverse("admin:ledger_account_add"), {"code": "1200", "name": "Bank", "type": "asset", "parent": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:ledger_account_change", args=["1200"])
    assert models.Account.objects.get(code="1200").name == "Bank"
    assert store.read_stream("chart-main")[-1].metadata["actor"] == "alice"


def test_a_duplicate_code_is_refused_with_a_message_and_nothing_recorded(as_accountant, chart):
    before = Event.objects.count()

    response = as_accountant.post(
        reverse("admin:ledger_account_add"), {"code": "1000", "name": "Cash again", "type": "asset", "parent": ""}
    )

    assert response.status_code == 200
    assert "account 1000 already exists" in messages_of(response)
    assert Event.objects.count() == before


def test_a_parent_of_another_type_is_an_error_next_to_the_parent_field(as_accountant, chart):
    response = as_accountant.post(
        reverse("admin:ledger_account_add"), {"code": "4200", "name": "Other", "type": "revenue", "parent": "1000"}
    )

    assert field_errors(response) == {"parent": ["account 1000 is asset, not revenue"]}
    assert not models.Account.objects.filter(code="4200").exists()


def test_renaming_and_moving_an_account(as_accountant, chart):
    account = models.Account.objects.get(code="1010")

    response = as_accountant.post(
        reverse("admin:ledger_account_edit", args=["1010"]),
        {"name": "Cash box", "parent": "", "version": account.version},
    )

    assert response.status_code == 302
    renamed = models.Account.objects.get(code="1010")
    assert (renamed.name, renamed.parent) == ("Cash box", None)


def test_an_edit_from_a_stale_page_is_refused(as_accountant, chart):
    stale_version = models.Account.objects.get(code="1010").version
    as_accountant.post(
        reverse("admin:ledger_account_edit", args=["1010"]),
        {"name": "Cash box", "parent": "1000", "version": stale_version},
    )

    response = as_accountant.post(
        reverse("admin:ledger_account_edit", args=["1010"]),
        {"name": "Petty", "parent": "1000", "version": stale_version},
    )

    assert response.status_code == 200
    assert any("changed while you were looking at it" in m for m in messages_of(response))
    assert models.Account.objects.get(code="1010").name == "Cash box"


def test_an_account_with_a_balance_cannot_be_deactivated(as_accountant, chart):
    books.post(date(2026, 11, 2), "Float", "1010", "3000", "50.00")
    version = models.Account.objects.get(code="1010").version

    response = as_accountant.post(reverse("admin:ledger_account_deactivate", args=["1010"]), {"version": version})

    assert response.status_code == 200
    assert "account 1010 has a non-zero balance and cannot be deactivated" in messages_of(response)
    assert models.Account.objects.get(code="1010").active


def test_deactivating_and_reactivating_an_empty_account(as_accountant, chart):
    version = models.Account.objects.get(code="5000").version

    as_accountant.post(reverse("admin:ledger_account_deactivate", args=["5000"]), {"version": version})
    assert not models.Account.objects.get(code="5000").active

    version = models.Account.objects.get(code="5000").version
    as_accountant.post(reverse("admin:ledger_account_reactivate", args=["5000"]), {"version": version})
    assert models.Account.objects.get(code="5000").active


# --- journal entries ----------------------------------------------------------------


def test_posting_a_balanced_entry_changes_the_trial_balance(as_accountant, chart):
    response = as_accountant.post(
        reverse("admin:ledger_journalentry_add"),
        forms_data.journal_entry(("5000", "120.50", ""), ("1000", "", "120.50")),
    )

    assert response.status_code == 302
    entry = models.JournalEntry.objects.get()
    assert response["Location"] == reverse("admin:ledger_journalentry_change", args=[entry.id])
    rows = {row["account"]: row for row in selectors.trial_balance(date(2026, 11, 30))["rows"]}
    assert (rows["5000"]["debit"], rows["1000"]["credit"]) == ("120.50", "120.50")


def test_an_unbalanced_entry_is_refused_next_to_the_lines_and_nothing_posted(as_accountant, chart):
    before = Event.objects.count()

    response = as_accountant.post(
        reverse("admin:ledger_journalentry_add"),
        forms_data.journal_entry(("5000", "120.50", ""), ("1000", "", "100.00")),
    )

    assert response.status_code == 200
    assert list(response.context["formsets"]["lines"].non_form_errors()) == [
        "debits 120.50 and credits 100.00 in USD do not balance"
    ]
    assert any("do not balance" in m for m in messages_of(response))
    assert Event.objects.count() == before
    assert not models.JournalEntry.objects.exists()


def test_line_errors_land_on_the_row_they_name(as_accountant, chart):
    response = as_accountant.post(
        reverse("admin:ledger_journalentry_add"),
        {
            **forms_data.journal_entry(("5000", "10.001", ""), ("1000", "", "10.00")),
            # a blank spare row before the offending one must not shift the row index
            "lines-0-account": "",
            "lines-0-debit": "",
            "lines-2-account": "5000",
            "lines-2-debit": "10.001",
        },
    )

    rows = response.context["formsets"]["lines"].forms
    assert rows[2].errors == {"debit": ["USD allows at most 2 decimal places"]}
    assert rows[1].errors == {}


def test_posting_into_a_closed_period_shows_the_error_on_the_date(as_accountant, chart):
    as_accountant.post(reverse("admin:ledger_closedperiod_add"), {"period": "2026-10"})

    response = as_accountant.post(
        reverse("admin:ledger_journalentry_add"),
        forms_data.journal_entry(("5000", "5.00", ""), ("1000", "", "5.00"), day="2026-10-15"),
    )

    assert field_errors(response) == {"date": ["period 2026-10 is closed"]}


def test_reversing_an_entry_posts_the_mirror_and_a_second_reversal_is_refused(as_accountant, chart):
    entry = books.post(date(2026, 11, 3), "Wrong", "5000", "1000", "40.00")
    url = reverse("admin:ledger_journalentry_reverse", args=[entry.id])

    response = as_accountant.post(url, {"date": "2026-11-04", "reason": "typo", "version": 1})
    again = as_accountant.post(url, {"date": "2026-11-04", "reason": "typo", "version": 2})

    original = models.JournalEntry.objects.get(id=entry.id)
    assert original.status == "reversed"
    assert response["Location"] == reverse("admin:ledger_journalentry_change", args=[original.reversed_by])
    assert again.status_code == 200
    assert f"journal entry {entry.id} is already reversed by {original.reversed_by}" in messages_of(again)


# --- invoices and payments ----------------------------------------------------------


def test_draft_edit_issue_and_pay_an_invoice(as_accountant, chart):
    response = as_accountant.post(reverse("admin:ledger_invoice_add"), forms_data.invoice())
    invoice = models.Invoice.objects.get()
    assert response["Location"] == reverse("admin:ledger_invoice_change", args=[invoice.id])
    assert (invoice.status, invoice.total) == ("draft", Decimal("360.00"))

    as_accountant.post(
        reverse("admin:ledger_invoice_edit", args=[invoice.id]),
        {
            **forms_data.invoice("ACME Corp", "2026-12-31"),
            "version": invoice.version,
            "lines-0-quantity": "4",
        },
    )
    invoice.refresh_from_db()
    assert (invoice.customer, invoice.total) == ("ACME Corp", Decimal("480.00"))

    as_accountant.post(
        reverse("admin:ledger_invoice_issue", args=[invoice.id]),
        {"issue_date": "2026-11-10", "version": invoice.version},
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("issued", "INV-2026-000001")

    as_accountant.post(
        reverse("admin:ledger_payment_add"),
        {
            "customer": "ACME Corp",
            "amount": "480.00",
            "currency": "USD",
            "date": "2026-11-20",
            "deposit_account": "1000",
            "method": "wire",
            "reference": "R-1",
            "invoice": str(invoice.id),
            "allocate": "480.00",
        },
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.outstanding) == ("paid", Decimal("0"))


def test_an_invoice_line_missing_its_price_is_a_form_error_before_any_service(as_accountant, chart):
    response = as_accountant.post(
        reverse("admin:ledger_invoice_add"),
        forms_data.invoice(
            "ACME", "2026-12-31", {"description": "Hours", "quantity": "1", "unit_price": "", "account": "4100"}
        ),
    )

    assert response.context["formsets"]["lines"].forms[0].errors == {
        "unit_price": ["This field is required on a line."]
    }
    assert not models.Invoice.objects.exists()


def test_issuing_with_an_inactive_revenue_account_names_the_line(as_accountant, chart):
    invoice = books.draft_invoice("ACME", date(2026, 12, 31))
    version = models.Account.objects.get(code="4100").version
    as_accountant.post(reverse("admin:ledger_account_deactivate", args=["4100"]), {"version": version})

    response = as_accountant.post(
        reverse("admin:ledger_invoice_issue", args=[invoice.id]), {"issue_date": "2026-11-10", "version": 1}
    )

    assert response.context["form"].non_field_errors() == ["lines[0].account: account 4100 is inactive"]
    assert models.Invoice.objects.get(id=invoice.id).status == "draft"


def test_a_paid_invoice_cannot_be_voided(as_accountant, chart):
    invoice = books.issued_invoice("ACME", date(2026, 11, 1), date(2026, 11, 30))
    books.payment("ACME", "10.00", date(2026, 11, 5), invoice)
    current = models.Invoice.objects.get(id=invoice.id)

    response = as_accountant.post(
        reverse("admin:ledger_invoice_void", args=[invoice.id]), {"reason": "mistake", "version": current.version}
    )

    assert f"invoice {invoice.id} has payments allocated and cannot be voided" in messages_of(response)
    assert models.Invoice.objects.get(id=invoice.id).status == "partially_paid"


def test_voiding_an_issued_invoice_reverses_its_posting(as_accountant, chart):
    invoice = books.issued_invoice("ACME", date(2026, 11, 1), date(2026, 11, 30))

    as_accountant.post(
        reverse("admin:ledger_invoice_void", args=[invoice.id]),
        {"reason": "sent twice", "date": "2026-11-02", "version": invoice.version},
    )

    voided = models.Invoice.objects.get(id=invoice.id)
    assert voided.status == "void"
    assert models.JournalEntry.objects.get(id=voided.journal_entry).status == "reversed"


def test_over_allocating_a_payment_is_an_error_next_to_the_amount(as_accountant, chart):
    invoice = books.issued_invoice("ACME", date(2026, 11, 1), date(2026, 11, 30))
    paid = books.payment("ACME", "500.00", date(2026, 11, 5))

    response = as_accountant.post(
        reverse("admin:ledger_payment_allocate", args=[paid.id]),
        {"invoice": invoice.id, "amount": "200.00", "version": 1},
    )

    assert field_errors(response) == {"amount": ["200.00 is more than the invoice's outstanding 120.00"]}
    assert models.Payment.objects.get(id=paid.id).allocated == 0


def test_allocating_and_refunding_a_payment(as_accountant, chart):
    invoice = books.issued_invoice("ACME", date(2026, 11, 1), date(2026, 11, 30))
    paid = books.payment("ACME", "500.00", date(2026, 11, 5))

    as_accountant.post(
        reverse("admin:ledger_payment_allocate", args=[paid.id]),
        {"invoice": invoice.id, "amount": "120.00", "version": 1},
    )
    as_accountant.post(
        reverse("admin:ledger_payment_refund", args=[paid.id]),
        {"amount": "80.00", "date": "2026-11-06", "reason": "overpaid", "version": 2},
    )

    after = models.Payment.objects.get(id=paid.id)
    assert (after.allocated, after.refunded, after.unallocated) == (Decimal("120"), Decimal("80"), Decimal("300"))
    assert models.Invoice.objects.get(id=invoice.id).status == "paid"


def test_recording_a_payment_to_an_inactive_deposit_account_names_the_field(as_accountant, chart):
    version = models.Account.objects.get(code="1010").version
    as_accountant.post(reverse("admin:ledger_account_deactivate", args=["1010"]), {"version": version})

    response = as_accountant.post(
        reverse("admin:ledger_payment_add"),
        {"customer": "ACME", "amount": "10.00", "currency": "USD", "date": "2026-11-20", "deposit_account": "1010"},
    )

    assert field_errors(response) == {"deposit_account": ["account 1010 is inactive"]}


# --- periods ------------------------------------------------------------------------


def test_closing_and_reopening_a_period(as_accountant, chart):
    as_accountant.post(reverse("admin:ledger_closedperiod_add"), {"period": "2026-09"})
    assert list(models.ClosedPeriod.objects.values_list("period", flat=True)) == ["2026-09"]

    again = as_accountant.post(reverse("admin:ledger_closedperiod_add"), {"period": "2026-09"})
    assert "period 2026-09 is already closed" in messages_of(again)

    as_accountant.post(reverse("admin:ledger_closedperiod_reopen", args=["2026-09"]), {"reason": "late invoice"})
    assert not models.ClosedPeriod.objects.exists()


def test_a_malformed_period_is_a_form_error(as_accountant, chart):
    response = as_accountant.post(reverse("admin:ledger_closedperiod_add"), {"period": "2026-13"})

    assert field_errors(response) == {"period": ["Enter a month as YYYY-MM."]}


# --- the generic admin never writes -------------------------------------------------


def test_the_change_form_of_a_read_model_refuses_a_post(as_superuser, chart):
    response = as_superuser.post(reverse("admin:ledger_account_change", args=["1000"]), {"name": "Hacked"})

    assert response.status_code == 403
    assert models.Account.objects.get(code="1000").name == "Cash"


def test_nothing_can_be_deleted_through_the_admin(as_superuser, chart):
    entry = books.post(date(2026, 11, 3), "Keep", "5000", "1000", "1.00")

    for url in (
        reverse("admin:ledger_account_delete", args=["1000"]),
        reverse("admin:ledger_journalentry_delete", args=[entry.id]),
        reverse("admin:finance_event_delete", args=[1]),
    ):
        assert as_superuser.post(url, {"post": "yes"}).status_code == 403
    assert models.JournalEntry.objects.filter(id=entry.id).exists()


def test_events_cannot_be_added_or_changed_in_the_admin(as_superuser, chart):
    assert as_superuser.get(reverse("admin:finance_event_add")).status_code == 403
    assert as_superuser.post(reverse("admin:finance_event_change", args=[1]), {"type": "X"}).status_code == 403


def test_a_done_action_is_listed_under_recent_actions(as_accountant, chart):
    as_accountant.post(
        reverse("admin:ledger_journalentry_add"),
        forms_data.journal_entry(("5000", "3.00", ""), ("1000", "", "3.00"), description="Stamps"),
    )

    index = as_accountant.get(reverse("admin:index")).content.decode()

    entry = models.JournalEntry.objects.get()
    assert LogEntry.objects.get().object_id == str(entry.id)
    assert "2026-11-05 Stamps" in index
