from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from finance.eventstore import sqlite_guard, store

pytestmark = pytest.mark.django_db


def test_verify_events_exits_non_zero_naming_the_first_bad_event(chart):
    out = StringIO()
    call_command("verify_events", "--no-progress", stdout=out)
    assert out.getvalue().startswith("ok: 7 events")
    victim = store.read_stream("chart-main")[3]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE finance_event DISABLE TRIGGER finance_event_immutable")
            cursor.execute(
                "UPDATE finance_event SET metadata = %s WHERE sequence = %s", ['{"actor":"mallory"}', victim.sequence]
            )
            cursor.execute("ALTER TABLE finance_event ENABLE TRIGGER finance_event_immutable")
        else:
            sqlite_guard.allow_mutation = True
            try:
                cursor.execute(
                    "UPDATE finance_event SET metadata = %s WHERE sequence = %s",
                    ['{"actor":"mallory"}', victim.sequence],
                )
            finally:
                sqlite_guard.allow_mutation = False

    with pytest.raises(CommandError) as failure:
        call_command("verify_events", "--no-progress")

    assert victim.event_id in str(failure.value)


def test_readyz_reports_503_when_a_dependency_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz", SERVER_NAME="localhost")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "redis": False}
