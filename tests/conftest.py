import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase, override_settings
from hypothesis import settings as hypothesis_settings

from finance.eventstore import sqlite_guard

# SQLite's immutability triggers refuse DELETE on events; a transactional test's
# teardown empties every table with DELETE, so it alone may pass them. (Postgres
# empties tables with TRUNCATE, which row triggers do not see.)
_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown_allowing_event_deletes(self):
    sqlite_guard.allow_mutation = True
    try:
        return _fixture_teardown(self)
    finally:
        sqlite_guard.allow_mutation = False


TransactionTestCase._fixture_teardown = _fixture_teardown_allowing_event_deletes


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def make_client(db):
    """An API client authenticated by a real token of a user with the given role."""
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    from finance.api.auth import issue_token

    def make(role: str | None = "accountant", username: str | None = None) -> APIClient:
        user = User.objects.create_user(username=username or f"{role or 'nobody'}-{User.objects.count()}")
        if role:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        client = APIClient(SERVER_NAME="localhost")
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
        client.user = user
        return client

    return make


@pytest.fixture
def accountant(make_client):
    return make_client("accountant")


@pytest.fixture
def viewer(make_client):
    return make_client("viewer")


STANDARD_CHART = [
    ("1000", "Cash", "asset"),
    ("1100", "Accounts receivable", "asset"),
    ("2200", "Sales tax payable", "liability"),
    ("3000", "Owner's equity", "equity"),
    ("4000", "Sales", "revenue"),
    ("4100", "Services", "revenue"),
    ("5000", "Expenses", "expense"),
]


@pytest.fixture
def chart(db):
    """The accounts most tests post to, opened through the service."""
    from finance import services

    for code, name, account_type in STANDARD_CHART:
        services.account_open(code=code, name=name, type=account_type, parent=None, actor="setup")
    return {code for code, _, _ in STANDARD_CHART}


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production settings redirect plain HTTP to HTTPS; the test client speaks HTTP.
    settings.SECURE_SSL_REDIRECT = False


# Hypothesis: a quick profile for every run, a deep one to hunt (HYPOTHESIS_PROFILE=deep).
hypothesis_settings.register_profile("default", max_examples=30)
hypothesis_settings.register_profile("deep", max_examples=500)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory, django_test_environment):
    """Static files collected as a deployment collects them: pages are rendered with
    the manifest storage that production uses, so a template naming a missing file
    fails here rather than in production."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(root)):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.fixture(autouse=True)
def _fresh_content_types():
    # A transactional test's flush recreates content types under new ids; a cached old
    # id would break the next admin log entry.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
