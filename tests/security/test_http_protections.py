"""Throttling per token, the body size limit, CSRF on session writes, hashed tokens, logs
without secrets, and secrets only from the environment."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from finance.api.auth import issue_token
from finance.eventstore import store
from ledger import models

ROOT = Path(__file__).resolve().parents[2]
ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}


def token_client(user) -> APIClient:
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    return client


def accountant_user(username: str) -> User:
    user = User.objects.create_user(username, password=f"{username}-Pw-0451")
    user.groups.add(Group.objects.get_or_create(name="accountant")[0])
    return user


@pytest.mark.django_db
def test_each_token_has_its_own_budget_and_going_over_it_is_429_with_retry_after(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min"}}
    alice = accountant_user("throttled-alice")
    first_token, second_token = token_client(alice), token_client(alice)

    answers = [first_token.get("/api/v1/accounts/").status_code for _ in range(4)]
    over = first_token.get("/api/v1/accounts/")

    assert answers == [200, 200, 200, 429]
    assert over.status_code == 429
    assert over["Content-Type"] == "application/problem+json"
    assert 1 <= int(over["Retry-After"]) <= 60
    assert over.json()["status"] == 429
    # Another client of the same user, and another user, still have their budgets.
    assert second_token.get("/api/v1/accounts/").status_code == 200
    assert token_client(accountant_user("throttled-bob")).get("/api/v1/accounts/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_a_body_over_the_limit_is_413_and_writes_nothing(accountant, chart, settings, idempotency_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    big = {**ENTRY, "description": "x" * 3_000}
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    events = store.event_count()

    response = accountant.post("/api/v1/journal-entries/", big, format="json", **headers)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert store.event_count() == events
    assert accountant.post("/api/v1/journal-entries/", ENTRY, format="json").status_code == 201


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token_and_token_writes_do_not(chart):
    user = accountant_user("browser-user")
    browser = Client(enforce_csrf_checks=True, SERVER_NAME="localhost")
    browser.force_login(user)
    body = json.dumps(ENTRY)

    refused = browser.post("/api/v1/journal-entries/", body, content_type="application/json")
    browser.get("/admin/login/")  # any page with a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/v1/journal-entries/", body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201
    assert models.JournalEntry.objects.count() == 1
    # An API client has no ambient credential for a forged page to ride on.
    api = APIClient(enforce_csrf_checks=True, SERVER_NAME="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    assert api.post("/api/v1/journal-entries/", ENTRY, format="json").status_code == 201


@pytest.mark.django_db
def test_the_database_never_holds_a_token_in_plain_text(accountant, viewer):
    key = accountant._credentials["HTTP_AUTHORIZATION"].split()[1]
    out = io.StringIO()
    call_command("issue_token", "robot", "--role", "operator", "--create", stdout=out)
    issued = out.getvalue().strip()
    dump = io.StringIO()

    call_command("dumpdata", stdout=dump)

    assert accountant.get("/api/v1/accounts/").status_code == 200
    assert key not in dump.getvalue()
    assert issued not in dump.getvalue()
    assert '"model": "finance.apitoken"' in dump.getvalue()


@pytest.fixture
def log_text():
    """Everything the configured JSON console handler writes meanwhile."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer.getvalue
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_logs_carry_no_token_password_or_request_body(chart, log_text):
    user = accountant_user("logged-user")
    password = "logged-user-Pw-0451"
    client = APIClient(SERVER_NAME="localhost")
    key = issue_token(user)
    wrong_key = "Wrong-Token-6b1d0f6e9a"
    marker = "Body-Marker-5cf1e2"
    entry = {**ENTRY, "description": marker, "reference": marker}
    unbalanced = {**entry, "lines": [{"account": "1000", "debit": "1.00", "memo": marker}]}

    # when: writes that succeed, fail a rule, fail to parse, a bad token, and logins
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/journal-entries/", entry, format="json").status_code == 201
    assert client.post("/api/v1/journal-entries/", unbalanced, format="json").status_code == 422
    malformed = client.post("/api/v1/journal-entries/", f'{{"description": "{marker}"', content_type="application/json")
    assert malformed.status_code == 400
    client.credentials(HTTP_AUTHORIZATION=f"Token {wrong_key}")
    assert client.get("/api/v1/accounts/").status_code == 401
    browser = Client(SERVER_NAME="localhost")
    browser.post("/admin/login/", {"username": user.username, "password": password})
    browser.post("/admin/login/", {"username": user.username, "password": f"{password}-wrong"})

    # then
    logged = log_text()
    assert logged.count('"path": "/api/v1/journal-entries/"') == 3  # the capture did see the requests
    for secret in (key, wrong_key, password, marker):
        assert secret not in logged


def settings_import(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; settings.SECRET_KEY"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "", "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_debug_the_service_refuses_to_start_without_a_secret_key():
    refused = settings_import()
    started = settings_import(SECRET_KEY="from-the-environment")

    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
    assert started.returncode == 0, started.stderr


@pytest.mark.django_db(transaction=True)
def test_the_production_server_answers_an_oversized_body_with_413(chart, settings):
    # Through uvicorn and the ASGI handler, with the default limit (5 MiB).
    import httpx

    from tests.asgi_server import serving

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    key = issue_token(accountant_user("big-body"))
    body = json.dumps({**ENTRY, "description": "x" * (6 * 1024 * 1024)})
    events = store.event_count()

    with serving() as base:
        response = httpx.post(
            f"{base}/api/v1/journal-entries/",
            content=body,
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
            timeout=30,
        )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert store.event_count() == events
