"""OpenTelemetry tracing, configured only from the standard ``OTEL_*`` variables.

Spans go to the OTLP endpoint that ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) names, over HTTP/protobuf, or gRPC when
``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``..._TRACES_PROTOCOL``) says ``grpc``; ``OTEL_TRACES_EXPORTER``
may say ``otlp``, ``console`` or ``none``; ``OTEL_SDK_DISABLED=true`` turns tracing off;
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` and the batch
processor's ``OTEL_BSP_*`` variables are read by the SDK itself. With none of them set
nothing is instrumented, so a developer's ``make run`` pays nothing for tracing.

The span processor runs a background thread, which does not survive ``fork``: call
``init_tracing`` in each worker process (gunicorn ``post_fork``, Celery
``worker_process_init``), never in a parent that forks afterwards.
"""

import logging
import os
import threading

from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

logger = logging.getLogger(__name__)

# Health probes and scrapes arrive every few seconds and say nothing about users.
_EXCLUDED_URLS = "healthz,readyz,metrics"

_lock = threading.Lock()
_provider: TracerProvider | None = None


def _exporter_from_environment() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint_set = bool(
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    if choice == "none" or (not choice and not endpoint_set):
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice not in ("", "otlp"):
        logger.warning("unknown OTEL_TRACES_EXPORTER, tracing stays off", extra={"exporter": choice})
        return None
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip()
    # Imported here so that a process without an endpoint never loads an exporter.
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    if protocol not in ("", "http/protobuf"):
        logger.warning("unsupported OTLP protocol, tracing stays off", extra={"protocol": protocol})
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def init_tracing(service_name: str = "finance", *, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the tracer provider and instrument Django, Celery, psycopg, SQLite and
    Redis in this process, once; later calls return the same provider.

    ``exporter`` replaces the one the environment names and sends each span as soon as
    it ends (tests pass an in-memory exporter). Returns None, and instruments nothing,
    when tracing is disabled or no exporter is configured."""
    global _provider
    with _lock:
        if _provider is not None:
            return _provider
        if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return None
        chosen = exporter or _exporter_from_environment()
        if chosen is None:
            return None
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
        provider = TracerProvider(resource=Resource.create(attributes))
        provider.add_span_processor(SimpleSpanProcessor(chosen) if exporter else BatchSpanProcessor(chosen))
        trace.set_tracer_provider(provider)
        _instrument(provider)
        _provider = provider
        logger.info("tracing initialised", extra={"service": service_name, "exporter": type(chosen).__name__})
        return provider


def _instrument(provider: TracerProvider) -> None:
    DjangoInstrumentor().instrument(tracer_provider=provider, excluded_urls=_EXCLUDED_URLS)
    # The SQL text goes into the span; a comment appended to the query would defeat
    # Postgres' statement statistics, so sqlcommenter stays off.
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False, skip_dep_check=True)
    SQLite3Instrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)


def shutdown_tracing() -> None:
    """Flush pending spans and remove every instrumentation (process exit, tests)."""
    global _provider
    with _lock:
        if _provider is None:
            return
        for instrumentor in (
            DjangoInstrumentor(),
            PsycopgInstrumentor(),
            SQLite3Instrumentor(),
            RedisInstrumentor(),
            CeleryInstrumentor(),
        ):
            instrumentor.uninstrument()
        _provider.shutdown()
        _provider = None
