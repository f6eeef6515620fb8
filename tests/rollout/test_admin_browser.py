"""An operator changes a flag in the admin with a real browser (Debian's Chromium,
headless, driven by Playwright) against the application served by uvicorn."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect, sync_playwright

from rollout.models import ChangeSource, Flag
from tests.rollout.servers import serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "rollout"


@pytest.fixture
def page(tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls between browser steps stay plain synchronous code.
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with serving(1, tmp_path, debug=True) as (url,), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 1100})
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


def test_an_operator_widens_a_flag_and_the_history_shows_why(page, make_flag, make_user):
    operator = make_user("olga", "operator", is_staff=True)
    operator.set_password("olga-password-1")
    operator.save()
    Group.objects.get_or_create(name="viewer")
    make_flag("beta", description="New statement layout", percentage="5")

    # given the operator signed in and opened the flag from the list
    page.goto("/admin/login/?next=/admin/rollout/flag/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", "olga-password-1")
    page.click("input[type=submit]")
    expect(page.locator("#result_list")).to_contain_text("5.00")
    page.click("#result_list a:text-is('beta')")

    expect(page.locator("#id_ramp")).to_have_value("")

    # when they save a new percentage without a reason, the form refuses
    page.fill("#id_percentage", "25")
    page.click("input[name=_save]")
    expect(page.locator(".field-reason .errorlist")).to_contain_text("This field is required")
    assert Flag.objects.get(name="beta").percentage == 5

    # and with a reason it saves, audited, and the history says why
    page.fill("#id_reason", "widen to a quarter after a quiet week")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#result_list")).to_contain_text("25.00")
    page.click("#result_list a:text-is('beta')")
    history = page.locator("#changes-group")
    expect(history).to_contain_text("widen to a quarter after a quiet week")
    expect(history).to_contain_text('"5.00" → "25.00"')
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flag-history.png"), full_page=True)

    change = Flag.objects.get(name="beta").changes.first()
    assert (change.actor, change.source, change.changes["percentage"]) == (
        "olga",
        ChangeSource.ADMIN,
        {"old": "5.00", "new": "25.00"},
    )
