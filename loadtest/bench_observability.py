"""What tracing adds to an API write, and what a Prometheus scrape costs the service.

    python -m loadtest.bench_observability

Runs in one process against its own Postgres database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/finance_obs_bench``; dropped and created afresh, and
only a name ending in ``_bench`` is accepted), through Django's full middleware stack
(metrics, request context, access log, authentication, DRF). Without ``REDIS_URL``, so no
broker is involved; snapshots are pushed out of the way so every write does the same work.

1. ``POST /api/v1/journal-entries/`` with tracing off, then on (Django, psycopg and
   Celery instrumented, every span sampled and handed to an exporter that drops it: the
   cost of making the spans, not of shipping them).
2. The scrape-time measurements of config/service_metrics.py (database probe, snapshot
   backlog over every stream, verification results), uncached.
"""

import os
import statistics
import sys
import time

from loadtest.bench_database import BenchDatabase

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finance_obs_bench"
WARMUP = 50
REQUESTS = 400
SCRAPES = 100
ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}


def _configure(url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "REDIS_URL": "",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key",
            "SECURE_SSL_REDIRECT": "false",
            "FINANCE_SNAPSHOT_EVERY": "1000000",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def _client():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client

    from finance import services
    from finance.api.auth import issue_token

    call_command("migrate", verbosity=0)
    for code, name, account_type in (("1000", "Cash", "asset"), ("4000", "Sales", "revenue")):
        services.account_open(code=code, name=name, type=account_type, parent=None, actor="bench")
    user = User.objects.create_user(username="bench")
    user.groups.add(Group.objects.get_or_create(name="accountant")[0])
    return Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {issue_token(user)}")


def _writes(client, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/api/v1/journal-entries/", ENTRY, content_type="application/json")
        timings.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise SystemExit(f"write failed: {response.status_code} {response.content[:200]!r}")
    return timings


def _scrapes(count: int) -> list[float]:
    from config import service_metrics

    service_metrics._CACHE_SECONDS = 0.0
    collector = service_metrics.ServiceStateCollector()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        collector.collect()
        timings.append(time.perf_counter() - started)
    return timings


def _row(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"| {label} | {len(timings)} | {statistics.median(timings) * 1000:.2f} | {p95 * 1000:.2f} |"


def main() -> int:
    database = BenchDatabase.from_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    database.recreate()
    _configure(database.url)
    from django.db import connections
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from config import database_pools, telemetry

    class DropSpans(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    client = _client()
    _writes(client, WARMUP)
    untraced = _writes(client, REQUESTS)
    telemetry.init_tracing("finance-bench", exporter=DropSpans())
    connections.close_all()
    # New connections go through the psycopg instrumentation: drop the pooled ones.
    database_pools.close_pools()
    _writes(client, WARMUP)
    traced = _writes(client, REQUESTS)
    telemetry.shutdown_tracing()
    scrapes = _scrapes(SCRAPES)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM finance_stream")
        streams = cursor.fetchone()[0]
    print("| what | n | median ms | p95 ms |")  # noqa: T201 - the report is the output
    print("|---|---|---|---|")  # noqa: T201
    print(_row("POST journal entry, tracing off", untraced))  # noqa: T201
    print(_row("POST journal entry, tracing on", traced))  # noqa: T201
    print(_row(f"scrape-time measurements ({streams} streams)", scrapes))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
