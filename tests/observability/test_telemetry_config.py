"""Tracing is configured only from the OTEL_* variables."""

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from config import telemetry


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_without_an_endpoint_nothing_is_exported():
    assert telemetry._exporter_from_environment() is None


def test_an_otlp_endpoint_turns_the_otlp_exporter_on(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://signoz-otel-collector.monitoring:4318")

    exporter = telemetry._exporter_from_environment()

    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://signoz-otel-collector.monitoring:4318/v1/traces"


def test_grpc_is_used_when_the_protocol_says_so(monkeypatch):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://signoz-otel-collector.monitoring:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")

    assert isinstance(telemetry._exporter_from_environment(), GrpcExporter)

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    assert telemetry._exporter_from_environment() is None


def test_the_exporter_can_be_chosen_or_turned_off(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert telemetry._exporter_from_environment() is None

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert isinstance(telemetry._exporter_from_environment(), ConsoleSpanExporter)

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    assert telemetry._exporter_from_environment() is None


def test_sdk_disabled_wins_over_everything(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")

    assert telemetry.init_tracing("finance-test") is None
