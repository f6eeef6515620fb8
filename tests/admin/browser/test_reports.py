"""Every report page in the browser, with a screenshot of each written as an artifact."""

from datetime import date

import pytest
from playwright.sync_api import expect

from ledger import selectors
from tests.admin import books
from tests.admin.browser.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = "2026-12-31"
PAGES = {
    "trial-balance": (f"/admin/reports/trial-balance/?as_of={AS_OF}", "#trial-balance"),
    "balance-sheet": (f"/admin/reports/balance-sheet/?as_of={AS_OF}", "#balance-sheet-totals"),
    "income-statement": (
        "/admin/reports/income-statement/?date_from=2026-01-01&date_to=2026-12-31",
        "#income-totals",
    ),
    "ar-aging": (f"/admin/reports/ar-aging/?as_of={AS_OF}", "#ar-aging"),
    "account-statement": ("/admin/reports/account-statement/?account=1100&currency=USD", "#statement"),
    "chart-of-accounts": ("/admin/ledger/account/chart/", ".chart-tree"),
}


@pytest.fixture
def busy_books(transactional_db):
    books.open_chart()
    books.activity(entries=25, invoices=20, payments=9, start=date(2026, 7, 1))


def test_every_report_page_renders_in_the_browser_and_is_screenshotted(open_page, busy_books):
    page = open_page("viewer")

    for name, (url, table) in PAGES.items():
        page.goto(url)

        expect(page.locator(table)).to_be_visible()
        expect(page.locator(".errornote")).to_have_count(0)
        assert screenshot(page, f"report-{name}").stat().st_size > 0, name


def test_the_trial_balance_shows_what_the_selector_computes_and_exports_it(open_page, busy_books):
    page = open_page("accountant")
    expected = selectors.trial_balance(date(2026, 12, 31))

    page.goto(PAGES["trial-balance"][0])
    with page.expect_download() as download:
        page.click("#csv-export")

    totals = page.locator('#trial-balance tfoot tr[data-currency="USD"] td')
    expect(totals.nth(1)).to_have_text(expected["totals"]["USD"]["debit"])
    expect(totals.nth(2)).to_have_text(expected["totals"]["USD"]["credit"])
    csv_text = download.value.path().read_text(encoding="utf-8")
    assert f"total,,,USD,{expected['totals']['USD']['debit']},{expected['totals']['USD']['credit']}," in csv_text


def test_a_bad_date_is_an_error_on_the_page(open_page, busy_books):
    page = open_page("accountant")

    response = page.goto("/admin/reports/trial-balance/?as_of=2026-02-30")

    assert response.status == 400
    expect(page.locator("#report-error")).to_be_visible()
    expect(page.locator(".field-as_of .errorlist")).to_contain_text("Enter a valid date")


LISTS = {
    "accounts": "/admin/ledger/account/",
    "journal-entries": "/admin/ledger/journalentry/",
    "invoices-overdue": "/admin/ledger/invoice/?overdue=yes",
    "payments": "/admin/ledger/payment/",
    "events": "/admin/finance/event/",
}


def test_every_list_renders_in_the_browser_and_is_screenshotted(open_page, busy_books):
    page = open_page("accountant")

    for name, url in LISTS.items():
        page.goto(url)

        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        assert screenshot(page, f"list-{name}").stat().st_size > 0, name
