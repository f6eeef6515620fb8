"""One API write, traced end to end: the view, its SQL and the Celery task it enqueues
share one trace, and the request's log line names that trace."""

import io
import json
import logging
import time

import pytest
from django.db import connections
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from config import database_pools, telemetry
from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}
SNAPSHOT_TASK = "finance.tasks.snapshot_stream"


@pytest.fixture(scope="module")
def exporter():
    spans = InMemorySpanExporter()
    assert telemetry.init_tracing("finance-test", exporter=spans) is not None
    # Instrumentation wraps connect(); connections opened before it stay untraced (in
    # production tracing starts right after the fork, before any connection), pooled
    # ones included.
    connections.close_all()
    database_pools.close_pools()
    yield spans
    telemetry.shutdown_tracing()


@pytest.fixture
def spans(exporter):
    exporter.clear()
    return exporter


@pytest.fixture
def task_runner(settings):
    """Runs the tasks a request enqueues: inline when Celery is eager (no REDIS_URL),
    else a real worker consuming from the Redis broker, so the trace context has to
    travel in the message headers."""
    settings.FINANCE_SNAPSHOT_EVERY = 1
    if app.conf.task_always_eager:
        yield "eager"
        return
    from celery.contrib.testing.worker import start_worker

    # Messages left by earlier tests refer to rows that no longer exist.
    app.control.purge()
    # The worker sets the root logger's level to its own; keep the configured one.
    with start_worker(app, pool="solo", loglevel=settings.LOG_LEVEL, perform_ping_check=False, shutdown_timeout=30):
        yield "worker"


def server_span(exporter: InMemorySpanExporter, status: int):
    (span,) = [
        s
        for s in exporter.get_finished_spans()
        if s.kind == SpanKind.SERVER and s.attributes.get("http.status_code") == status
    ]
    return span


def wait_for_task_span(exporter: InMemorySpanExporter, trace_id: int, seconds: float = 30.0):
    """The snapshot task's span in the given trace; a worker finishes it asynchronously."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for span in exporter.get_finished_spans():
            if span.name == f"run/{SNAPSHOT_TASK}" and span.context.trace_id == trace_id:
                return span
        time.sleep(0.05)
    raise AssertionError(f"no task span in trace {trace_id:032x}: {[s.name for s in exporter.get_finished_spans()]}")


@pytest.fixture
def log_lines():
    """What the configured JSON console handler writes, as parsed lines."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    finally:
        handler.setStream(previous)


def test_an_api_write_yields_spans_for_the_view_the_sql_and_the_task(spans, task_runner, accountant, chart):
    response = accountant.post("/api/v1/journal-entries/", ENTRY, format="json")
    assert response.status_code == 201

    view = server_span(spans, 201)
    trace_id = view.context.trace_id
    task_span = wait_for_task_span(spans, trace_id)
    sql = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id and "db.system" in s.attributes]
    assert view.attributes["http.route"] == "api/v1/journal-entries/"
    assert any(s.attributes["db.statement"].startswith("INSERT INTO finance_event") for s in sql)
    assert task_span.kind == SpanKind.CONSUMER


def test_the_task_span_descends_from_the_request_span(spans, task_runner, accountant, chart):
    accountant.post("/api/v1/journal-entries/", ENTRY, format="json")

    view = server_span(spans, 201)
    task_span = wait_for_task_span(spans, view.context.trace_id)
    by_id = {s.context.span_id: s for s in spans.get_finished_spans()}
    ancestors = []
    parent = task_span.parent
    while parent is not None and parent.span_id in by_id:
        ancestors.append(by_id[parent.span_id])
        parent = ancestors[-1].parent

    assert ancestors[-1] is view


def test_a_request_log_line_carries_its_request_id_user_trace_and_span(spans, log_lines, accountant, chart):
    response = accountant.post("/api/v1/journal-entries/", ENTRY, format="json")

    view = server_span(spans, 201)
    (line,) = [line for line in log_lines() if line["message"] == "request finished"]
    assert line["trace_id"] == format(view.context.trace_id, "032x")
    assert line["span_id"] == format(view.context.span_id, "016x")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user"] == accountant.user.username
    assert line["level"] == "INFO"
    assert line["status"] == 201
    assert line["path"] == "/api/v1/journal-entries/"
    assert line["time"].endswith("+00:00")
