"""Event timelines say who changed what, from what to what; charts are drawn to scale."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from finance import services
from finance.domain.invoice import InvoiceLineInput
from ledger.admin.charts import MARGIN_TOP, bar_chart, layout
from ledger.admin.timeline import timeline
from tests.admin import books

LINE = InvoiceLineInput(description="Hours", quantity=Decimal(2), unit_price=Decimal("50.00"), account="4100")


@pytest.mark.django_db
def test_an_edited_draft_shows_each_change_as_old_to_new(chart):
    invoice = services.invoice_create(
        customer="ACME", currency="USD", due_date=date(2026, 12, 1), lines=[LINE], actor="alice"
    )
    services.invoice_update(invoice_id=invoice.id, customer="ACME Corp", actor="bob")

    newest, first = timeline(f"invoice-{invoice.id}")

    assert (newest.type, newest.actor, first.actor) == ("InvoiceDraftUpdated", "bob", "alice")
    assert [(c.field, c.old, c.new) for c in newest.changes] == [("customer", "ACME", "ACME Corp")]
    assert ("lines", None, "Hours: 2 × 50.00 → 4100") in [(c.field, c.old, c.new) for c in first.changes]


@pytest.mark.django_db
def test_an_accounts_page_shows_only_that_accounts_history(as_viewer, chart):
    services.account_update(code="5000", name="Operating expenses", actor="alice")

    page = as_viewer.get(reverse("admin:ledger_account_change", args=["5000"]))

    entries = page.context["timeline"]
    assert [e.type for e in entries] == ["AccountUpdated", "AccountOpened"]
    assert [(c.field, c.old, c.new) for c in entries[0].changes] == [("name", "Expenses", "Operating expenses")]


@pytest.mark.django_db
def test_an_invoice_page_lists_the_entries_it_posted(as_viewer, chart):
    invoice = books.issued_invoice("ACME", date(2026, 11, 1), date(2026, 11, 30))
    services.invoice_void(invoice_id=invoice.id, reason="duplicate", date=date(2026, 11, 2), actor="alice")

    page = as_viewer.get(reverse("admin:ledger_invoice_change", args=[invoice.id]))

    posted = page.context["posted_entries"]
    assert [(e.status, e.reverses is not None) for e in posted] == [("reversed", False), ("posted", True)]
    assert [e.total_debit for e in posted] == [invoice.total, invoice.total]


def test_bars_are_drawn_to_scale_and_negative_ones_hang_below_the_line():
    bars, zero_y = layout([("a", Decimal(300)), ("b", Decimal(100)), ("c", Decimal(-100))])

    assert bars[0].height == pytest.approx(3 * bars[1].height)
    assert bars[2].height == pytest.approx(bars[1].height)
    assert bars[0].y == pytest.approx(MARGIN_TOP)
    assert bars[2].y == pytest.approx(zero_y)
    assert bars[1].y + bars[1].height == pytest.approx(zero_y)


def test_the_chart_is_svg_with_one_bar_per_bucket():
    svg = bar_chart([("Current", Decimal("10.00")), ("Over 90 days", Decimal("0"))], currency="USD", title="Aging")

    assert svg.startswith("<svg")
    assert svg.count('<rect class="bar') == 2
    assert "Current: 10.00 USD" in svg
