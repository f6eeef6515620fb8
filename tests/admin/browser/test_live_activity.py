"""The live activity page shows new events as they are recorded, through the SSE
stream, without a reload."""

import pytest
from playwright.sync_api import expect

from tests.admin import books
from tests.admin.browser.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

FEED_LAG_MS = 30_000


@pytest.fixture
def chart(transactional_db):
    books.open_chart()


def test_an_entry_posted_in_another_tab_appears_live(open_page, chart):
    watcher = open_page("viewer")
    watcher.goto("/admin/live-activity/")
    expect(watcher.locator("#live-status")).to_have_text("live")
    # Events get their feed position once no older transaction can still commit (on a
    # shared Postgres, anyone's): the chart's events may be on the page already or
    # arrive through the stream a little later.
    event_types = watcher.locator("#live-events tbody td.event-type")
    expect(event_types.filter(has_text="AccountOpened")).to_have_count(len(books.CHART), timeout=FEED_LAG_MS)

    poster = open_page("accountant")
    poster.goto("/admin/ledger/journalentry/add/")
    poster.fill("#id_description", "Coffee beans")
    poster.select_option('select[name="lines-0-account"]', "5000")
    poster.fill('input[name="lines-0-debit"]', "18.40")
    poster.select_option('select[name="lines-1-account"]', "1000")
    poster.fill('input[name="lines-1-credit"]', "18.40")
    poster.click("input[value='Post entry']")
    expect(poster.locator(".messagelist")).to_contain_text("Journal entry posted")

    newest = watcher.locator("#live-events tbody tr").first
    expect(newest.locator("td.event-type")).to_have_text("JournalEntryPosted", timeout=FEED_LAG_MS)
    expect(newest).to_contain_text("accountant-1")
    expect(event_types).to_have_count(len(books.CHART) + 1)
    screenshot(watcher, "live-activity")
