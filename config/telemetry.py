"""OpenTelemetry tracing, configured only from the standard ``OTEL_*`` variables."""


def init_tracing(service_name: str = "finance") -> None:
    """Set up tracing in this process (call after fork: gunicorn post_fork, Celery
    worker_process_init). A no-op until exporters are configured."""
