import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.admin import books


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production redirects plain HTTP to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def accountant(db):
    return books.user_with_role("alice", "accountant")


@pytest.fixture
def viewer(db):
    return books.user_with_role("victor", "viewer")


@pytest.fixture
def operator(db):
    return books.user_with_role("olga", "operator")


@pytest.fixture
def superuser(db):
    return books.user_with_role("root", None, superuser=True)


@pytest.fixture
def as_accountant(accountant) -> Client:
    return _client_for(accountant)


@pytest.fixture
def as_viewer(viewer) -> Client:
    return _client_for(viewer)


@pytest.fixture
def as_operator(operator) -> Client:
    return _client_for(operator)


@pytest.fixture
def as_superuser(superuser) -> Client:
    return _client_for(superuser)


@pytest.fixture
def chart(db):
    books.open_chart()


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory, django_test_environment):
    """Static files collected as a deployment collects them: pages are rendered with
    the manifest storage that production uses, so a template naming a missing file
    fails here rather than in production."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(root)):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield
