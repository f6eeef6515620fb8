"""The production server command, running: gunicorn with config/gunicorn.conf.py serves
the ASGI app, streams SSE, and its master serves the metrics of all workers."""

import os
import signal
import time

import httpx
import pytest
from httpx_sse import connect_sse
from prometheus_client.parser import text_string_to_metric_families

from loadtest.drills import books
from loadtest.drills.server import PROXY_HEADERS, Gunicorn, service_environment
from tests.deploy.drill_targets import drill_database_url, drill_redis_url

pytestmark = pytest.mark.slow

REQUESTS_BY_VIEW = "django_http_requests_total_by_view_transport_method"


@pytest.fixture(scope="module")
def environment():
    environment = service_environment(drill_database_url(), drill_redis_url())
    environment["DRILL_TOKEN"] = books.prepare_database(environment)
    return environment


def readyz_requests(server: Gunicorn) -> float:
    """Requests to /readyz counted by the master's metrics port (nothing but the test
    calls /readyz here; the helper's own start-up checks use /healthz)."""
    text = httpx.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == REQUESTS_BY_VIEW
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("view") == "readyz"
    )


def wait_for_replacement(server: Gunicorn, gone: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = server.worker_pids()
        if gone not in workers and len(workers) == server.workers:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker {gone} was not replaced")


def test_the_sse_stream_delivers_a_live_event_under_the_production_server(environment):
    token = environment["DRILL_TOKEN"]
    posted: list[str] = []
    with Gunicorn(environment, workers=2) as server, httpx.Client(timeout=httpx.Timeout(20.0)) as client:
        books.open_accounts(server.base_url, token)
        headers = books.auth(token)

        def post_entry() -> None:
            response = client.post(f"{server.base_url}/api/v1/journal-entries/", json=books.entry(), headers=headers)
            posted.append(response.json()["id"])

        received = []
        stream = f"{server.base_url}/api/v1/events/stream/"
        # connect_sse adds its Accept header to the dict it is given: pass a copy.
        with connect_sse(client, "GET", stream, headers=dict(headers)) as source:
            assert source.response.headers["content-type"].startswith("text/event-stream")
            for sse in source.iter_sse():
                if sse.event == "stream-open":
                    post_entry()
                elif sse.event == "message":
                    received.append(sse.json())
                    if received[-1]["aggregate_id"] == posted[0]:
                        break

    assert received[-1]["aggregate_id"] == posted[0]
    assert received[-1]["type"] == "JournalEntryPosted"


def test_the_master_sums_every_worker_and_keeps_the_counts_of_a_replaced_one(environment):
    with Gunicorn(environment, workers=2) as server:
        before = readyz_requests(server)

        # given: requests on fresh connections, so both workers take some
        for _ in range(20):
            assert httpx.get(f"{server.base_url}/readyz", headers=PROXY_HEADERS).status_code == 200
        counted = readyz_requests(server)

        # when: a worker dies and gunicorn replaces it (no request in between)
        victim = min(server.worker_pids())
        os.kill(victim, signal.SIGKILL)
        wait_for_replacement(server, victim)
        after = readyz_requests(server)

    assert counted - before == 20
    assert after == counted


def test_the_master_empties_the_metrics_directory_it_starts_with(environment, tmp_path):
    stale = tmp_path / "counter_999999.db"
    stale.write_bytes(b"left by an earlier master")

    with Gunicorn(environment, workers=1, metrics_dir=tmp_path):
        assert not stale.exists()
