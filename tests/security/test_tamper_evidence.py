"""An event row changed behind the application's back, as an attacker with database
superuser rights would change it, is named by ``verify_events`` and raises the alert
metric through the periodic verification task."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from config import service_metrics
from finance.domain.journal import JournalEntry
from finance.eventstore import sqlite_guard, store
from finance.tasks import verify_event_log

ROOT = Path(__file__).resolve().parents[2]
ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}


def tamper_with_event(sequence: int) -> None:
    """Raise the amounts of one event in place, past the immutability triggers."""
    sql = "UPDATE finance_event SET data = replace(data, '\"100.00\"', '\"1000.00\"') WHERE sequence = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What a superuser can do: replica mode skips ordinary triggers.
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute(sql, [sequence])
                assert cursor.rowcount == 1
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
        else:
            sqlite_guard.allow_mutation = True
            try:
                cursor.execute(sql, [sequence])
                assert cursor.rowcount == 1
            finally:
                sqlite_guard.allow_mutation = False


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def verify_events_in_a_process() -> subprocess.CompletedProcess:
    """``manage.py verify_events`` as an operator runs it, against the test database."""
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": "", "SECRET_KEY": "test-only-secret-key"}
    return subprocess.run(
        [sys.executable, "manage.py", "verify_events", "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def scraped_bad_events(client) -> float | None:
    body = client.get("/metrics", SERVER_NAME="localhost").content.decode()
    for family in text_string_to_metric_families(body):
        if family.name == "finance_event_log_bad_events":
            return family.samples[0].value
    return None


@pytest.mark.django_db(transaction=True)
def test_an_event_altered_in_the_database_is_named_and_raises_the_alert_metric(accountant, chart, client, monkeypatch):
    monkeypatch.setattr(service_metrics, "_CACHE_SECONDS", 0.0)
    posted = accountant.post("/api/v1/journal-entries/", ENTRY, format="json")
    assert posted.status_code == 201
    victim = store.read_stream(JournalEntry.stream_id_for(posted.json()["id"]))[0]
    assert victim.type == "JournalEntryPosted"
    clean = verify_events_in_a_process()
    assert clean.returncode == 0, clean.stderr
    assert verify_event_log.apply().get() is True
    assert scraped_bad_events(client) == 0

    # when
    tamper_with_event(victim.sequence)

    # then
    caught = verify_events_in_a_process()
    assert caught.returncode != 0
    assert victim.event_id in caught.stderr
    cache.clear()
    assert scraped_bad_events(client) is None  # never verified since the cache was emptied
    assert verify_event_log.apply().get() is False
    assert scraped_bad_events(client) > 0
