"""A real browser (Debian's Chromium, headless, driven by Playwright) against the real
ASGI application served by uvicorn on a loopback port, on the test database."""

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

from tests.admin import books
from tests.asgi_server import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Browser:
    """One Chromium per test module. While Playwright runs it keeps an event loop
    running in this thread, so the tests' own database calls between browser steps
    need Django's async-safety check lifted — for this module only, and never in the
    environment of anything started after it."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    # Django keeps connections per context: inside Playwright's loop this thread used a
    # connection of its own, and stopping the test server ended every other session of
    # the test database — this thread's connection from before included. Drop it, so
    # the next test opens a live one.
    connections.close_all()


@pytest.fixture
def server(transactional_db, settings):
    """The application over HTTP on 127.0.0.1: cookies without the Secure flag, since
    the browser reaches it over plain HTTP."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    with serving() as base:
        yield base


@pytest.fixture
def open_page(browser, server):
    """``open_page(role)``: a fresh browser context logged in through the login form as
    a new staff user with that role (None: superuser)."""
    contexts = []

    def open_as(role: str | None, username: str | None = None) -> Page:
        username = username or f"{role or 'root'}-{len(contexts)}"
        books.user_with_role(username, role, superuser=role is None)
        context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", f"{username}-password-1")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    yield open_as
    for context in contexts:
        context.close()
