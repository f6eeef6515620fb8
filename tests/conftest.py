import pytest
from django.db import connection
from django.test import TransactionTestCase

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
