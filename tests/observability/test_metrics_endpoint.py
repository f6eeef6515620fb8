import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from config import service_metrics
from finance.eventstore import store

META = {"actor": "test", "request_id": "r1", "correlation_id": "c1", "causation_id": "c1"}


@pytest.fixture(autouse=True)
def fresh_measurements(monkeypatch):
    # Each test sees its own scrape-time figures, not a neighbour's cached ones.
    monkeypatch.setattr(service_metrics, "_CACHE_SECONDS", 0.0)


def scrape(client, **extra) -> dict[str, list]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def value(samples, **labels) -> float:
    matching = [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, (labels, samples)
    return matching[0]


def append_events(stream_id: str, count: int) -> None:
    events = [store.NewEvent(type="Noted", schema_version=1, data={"n": str(n)}) for n in range(count)]
    store.append([store.Append(stream_id, "test", 0, events)], metadata=META)


@pytest.mark.django_db
def test_request_latency_histogram_has_the_slo_bucket_edges(client):
    client.get("/healthz")

    samples = scrape(client)["django_http_requests_latency_seconds_by_view_method"]

    edges = {s.labels["le"] for s in samples if s.name.endswith("_bucket") and s.labels["view"] == "healthz"}
    assert {"0.05", "0.1", "0.3", "0.5"} <= edges


@pytest.mark.django_db
def test_database_probe_and_snapshot_backlog_are_measured_at_scrape_time(client, settings):
    settings.FINANCE_SNAPSHOT_EVERY = 5
    append_events(f"test-{uuid.uuid4()}", 7)
    append_events(f"test-{uuid.uuid4()}", 3)

    metrics = scrape(client)

    assert value(metrics["finance_dependency_up"], dependency="database") == 1
    assert value(metrics["finance_snapshot_lag_events"]) == 7
    assert value(metrics["finance_snapshots_due"]) == 1
    assert value(metrics["finance_snapshot_every_events"]) == 5


@pytest.mark.django_db
def test_verification_results_appear_only_once_a_verification_ran(client):
    from django.core.cache import cache

    cache.clear()
    assert "finance_event_log_bad_events" not in scrape(client)

    call_command("verify_events", "--no-progress", stdout=None)

    metrics = scrape(client)
    assert value(metrics["finance_event_log_bad_events"]) == 0
    assert value(metrics["finance_event_log_verified_timestamp_seconds"]) > 0


@pytest.mark.django_db
def test_with_a_metrics_port_the_public_port_does_not_serve_metrics(client, settings):
    settings.METRICS_PORT = 9100

    assert client.get("/metrics", SERVER_PORT="8000").status_code == 404
    assert "finance_dependency_up" in scrape(client, SERVER_PORT="9100")


@pytest.mark.django_db
def test_a_spoofed_host_header_does_not_reach_metrics_through_the_public_port(client, settings):
    # gunicorn's sync workers derive SERVER_PORT from the Host header; the socket decides.
    class PublicSocket:
        def getsockname(self):
            return ("127.0.0.1", 8000)

    settings.METRICS_PORT = 9100

    response = client.get("/metrics", SERVER_PORT="9100", **{"gunicorn.socket": PublicSocket()})

    assert response.status_code == 404


@pytest.mark.skipif(not settings.REDIS_URL, reason="queue lengths are read from the Redis broker; none without one")
@pytest.mark.django_db
def test_queue_length_counts_the_tasks_waiting_on_the_broker(client):
    from config.celery import app
    from finance import tasks

    app.control.purge()
    assert value(scrape(client)["finance_celery_queue_length"], queue="celery") == 0

    tasks.purge_idempotency_keys.delay()
    tasks.purge_idempotency_keys.delay()

    assert value(scrape(client)["finance_celery_queue_length"], queue="celery") == 2
    assert value(scrape(client)["finance_dependency_up"], dependency="redis") == 1
    app.control.purge()


def test_rollout_requests_are_counted_by_flag_cohort_and_status_class():
    from prometheus_client import REGISTRY

    from config import rollout_metrics

    def count(cohort, status_class):
        labels = {"flag": "new-aging", "cohort": cohort, "status_class": status_class}
        return REGISTRY.get_sample_value("rollout_requests_total", labels) or 0.0

    before_in, before_out = count("in", "5xx"), count("out", "2xx")

    rollout_metrics.observe_request(flag="new-aging", in_cohort=True, status=503, seconds=0.2)
    rollout_metrics.observe_request(flag="new-aging", in_cohort=False, status=200, seconds=0.04)

    assert count("in", "5xx") == before_in + 1
    assert count("out", "2xx") == before_out + 1
    under_50ms = REGISTRY.get_sample_value(
        "rollout_request_duration_seconds_bucket", {"flag": "new-aging", "cohort": "out", "le": "0.05"}
    )
    assert under_50ms >= 1
