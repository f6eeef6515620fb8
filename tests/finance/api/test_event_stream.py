import httpx
import pytest
from httpx_sse import connect_sse

from finance.eventstore import store
from tests.asgi_server import serving

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "1.00"}, {"account": "4000", "credit": "1.00"}],
}


def read_events(client: httpx.Client, base: str, token: str, last_id: str, count: int, on_open=None) -> list[dict]:
    """Open the stream after ``last_id`` and collect ``count`` feed events."""
    received = []
    headers = {"Authorization": f"Token {token}", "Last-Event-ID": last_id, "Host": "localhost"}
    with connect_sse(client, "GET", f"{base}/api/v1/events/stream/", headers=headers) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            if sse.event == "stream-open" and on_open:
                on_open()
            if sse.event != "message":
                continue
            received.append({"id": sse.id, **sse.json()})
            if len(received) == count:
                return received
    return received


def test_a_real_sse_client_gets_history_live_events_and_resumes_without_gaps(make_client, chart, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    writer = make_client("accountant")
    token = writer._credentials["HTTP_AUTHORIZATION"].split()[1]
    writer.post("/api/v1/journal-entries/", ENTRY, format="json")
    history = store.event_count()

    with serving() as base, httpx.Client(timeout=httpx.Timeout(15.0)) as client:
        # History from the beginning, then a live event posted while connected.
        live_posted = []

        def post_live():
            if not live_posted:
                live_posted.append(writer.post("/api/v1/journal-entries/", ENTRY, format="json").json()["id"])

        first = read_events(client, base, token, "0", history + 1, on_open=post_live)
        positions = [event["position"] for event in first]
        assert positions == list(range(1, history + 2))
        assert [event["id"] for event in first] == [f"events:{p}" for p in positions]
        assert first[-1]["aggregate_id"] == live_posted[0]

        # Disconnected; more happens; a client resuming from its last id misses nothing.
        writer.post("/api/v1/journal-entries/", ENTRY, format="json")
        writer.post("/api/v1/journal-entries/", ENTRY, format="json")
        resumed = read_events(client, base, token, first[-1]["id"], 2)
        assert [event["position"] for event in resumed] == [positions[-1] + 1, positions[-1] + 2]

        # A bare position works as Last-Event-ID too.
        again = read_events(client, base, token, str(positions[-1]), 2)
        assert again == resumed


def test_the_stream_needs_credentials(settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    with serving() as base:
        response = httpx.get(f"{base}/api/v1/events/stream/", headers={"Host": "localhost"}, timeout=10)
    assert response.status_code == 401
