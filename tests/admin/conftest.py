import pytest
from django.test import Client

from tests.admin import books


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
