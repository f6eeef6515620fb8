"""An accountant's day in the browser: post entries and see the trial balance move,
be stopped by an unbalanced one, take an invoice from draft to paid and watch the AR
aging; a viewer cannot post."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from finance.models import Event
from finance.services.clock import today
from ledger import models
from tests.admin import books
from tests.admin.browser.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chart(transactional_db):
    books.open_chart()


def trial_balance_cell(page: Page, account: str, column: str):
    return page.locator(f'#trial-balance tr[data-account="{account}"] td.{column}')


def fill_line(page: Page, index: int, account: str, *, debit: str = "", credit: str = "") -> None:
    page.select_option(f'select[name="lines-{index}-account"]', account)
    if debit:
        page.fill(f'input[name="lines-{index}-debit"]', debit)
    if credit:
        page.fill(f'input[name="lines-{index}-credit"]', credit)


def test_a_balanced_entry_posts_and_the_trial_balance_changes(open_page, chart):
    page = open_page("accountant")
    page.goto("/admin/reports/trial-balance/")
    expect(page.locator("#trial-balance")).to_contain_text("Nothing posted up to this date")

    page.goto("/admin/ledger/journalentry/")
    page.click("text=Post a journal entry")
    page.fill("#id_description", "Printer paper")
    fill_line(page, 0, "5000", debit="75.25")
    # While typing: the difference is shown before anything is sent.
    expect(page.locator("#difference")).to_have_text("75.25")
    expect(page.locator("#balance-state")).to_have_text("does not balance")
    fill_line(page, 1, "1000", credit="75.25")
    expect(page.locator("#difference")).to_have_text("0.00")
    expect(page.locator("#balance-state")).to_have_text("balanced")
    screenshot(page, "post-entry-balanced")
    page.click("input[value='Post entry']")

    expect(page.locator(".messagelist")).to_contain_text("Journal entry posted: Printer paper.")
    page.goto("/admin/reports/trial-balance/")
    expect(trial_balance_cell(page, "5000", "debit")).to_have_text("75.25")
    expect(trial_balance_cell(page, "1000", "credit")).to_have_text("75.25")


def test_an_unbalanced_entry_shows_the_error_and_posts_nothing(open_page, chart):
    page = open_page("accountant")
    events_before = Event.objects.count()

    page.goto("/admin/ledger/journalentry/add/")
    page.fill("#id_description", "Wrong sums")
    fill_line(page, 0, "5000", debit="100.00")
    fill_line(page, 1, "1000", credit="90.00")
    expect(page.locator("#difference")).to_have_text("10.00")
    page.click("input[value='Post entry']")

    expect(page.locator(".lines-errors")).to_have_text("debits 100.00 and credits 90.00 in USD do not balance")
    expect(page.locator(".messagelist .error")).to_contain_text("do not balance")
    # What the accountant typed is still there to correct.
    expect(page.locator('input[name="lines-1-credit"]')).to_have_value("90.00")
    screenshot(page, "post-entry-unbalanced")
    assert Event.objects.count() == events_before
    assert not models.JournalEntry.objects.exists()


def aging_cell(page: Page, customer: str, column: int):
    # columns: customer, currency, current, 1–30, 31–60, 61–90, over 90, unapplied, total
    return page.locator(f'#ar-aging tbody tr[data-customer="{customer}"] td').nth(column)


def test_an_invoice_from_draft_to_paid_moves_the_ar_aging(open_page, chart):
    page = open_page("accountant")
    issued = today() - timedelta(days=20)

    page.goto("/admin/ledger/invoice/add/")
    page.fill("#id_customer", "Wayne Enterprises")
    page.fill("#id_due_date", (issued + timedelta(days=10)).isoformat())
    page.fill('input[name="lines-0-description"]', "Audit support")
    page.fill('input[name="lines-0-quantity"]', "3")
    page.fill('input[name="lines-0-unit_price"]', "200.00")
    page.select_option('select[name="lines-0-account"]', "4100")
    page.fill('input[name="lines-0-tax_rate"]', "0.10")
    page.click("input[value='Save draft']")
    expect(page.locator(".messagelist")).to_contain_text("Draft invoice for Wayne Enterprises saved.")
    expect(page.locator(".field-status .readonly")).to_have_text("draft")

    page.click("text=Issue")
    page.fill("#id_issue_date", issued.isoformat())
    page.click("input[value='Issue invoice']")
    expect(page.locator(".field-status .readonly")).to_have_text("issued")
    expect(page.locator(".field-outstanding_amount .readonly")).to_have_text("660.00")
    screenshot(page, "invoice-issued")

    page.goto("/admin/reports/ar-aging/")
    expect(aging_cell(page, "Wayne Enterprises", 3)).to_have_text("660.00")  # 10 days past due
    bar = page.locator('#aging-chart-USD g.bar-group[data-label="1–30 days"] rect')
    assert float(bar.get_attribute("height")) > 0

    invoice = models.Invoice.objects.get()
    page.goto(f"/admin/ledger/invoice/{invoice.id}/change/")
    page.click("text=Record payment")
    expect(page.locator("#id_amount")).to_have_value("660.00")
    page.select_option("#id_deposit_account", "1000")
    page.click("input[value='Record payment']")
    expect(page.locator(".messagelist")).to_contain_text("Payment from Wayne Enterprises recorded.")

    page.goto(f"/admin/ledger/invoice/{invoice.id}/change/")
    expect(page.locator(".field-status .readonly")).to_have_text("paid")
    expect(page.locator("#timeline")).to_contain_text("InvoicePaymentApplied")
    screenshot(page, "invoice-paid")
    page.goto("/admin/reports/ar-aging/")
    expect(page.locator('#ar-aging tbody tr[data-customer="Wayne Enterprises"]')).to_have_count(0)


def test_a_viewer_cannot_post(open_page, chart):
    page = open_page("viewer")

    page.goto("/admin/ledger/journalentry/")
    expect(page.locator("#changelist")).to_be_visible()
    expect(page.locator("text=Post a journal entry")).to_have_count(0)
    response = page.goto("/admin/ledger/journalentry/add/")

    assert response.status == 403
    screenshot(page, "viewer-refused")
    assert not models.JournalEntry.objects.exists()
