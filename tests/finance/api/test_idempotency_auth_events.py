from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from finance.eventstore import store
from finance.models import ApiToken
from ledger import models
from tests.concurrency import run_in_threads

ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}


def events_written() -> int:
    return store.event_count()


@pytest.mark.django_db
def test_a_retried_post_replays_the_first_response_and_writes_nothing(accountant, chart):
    first = accountant.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    count = events_written()

    again = accountant.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert "Idempotent-Replayed" not in first
    assert events_written() == count
    assert models.JournalEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_key_reused_with_another_body_is_refused(accountant, chart):
    accountant.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    other = accountant.post(
        "/api/v1/journal-entries/", {**ENTRY, "description": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert models.JournalEntry.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_user_and_failures_are_not_remembered(make_client, chart):
    alice, bob = make_client("accountant"), make_client("accountant")
    assert alice.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert bob.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert models.JournalEntry.objects.count() == 2

    bad = {**ENTRY, "lines": ENTRY["lines"][:1]}
    assert alice.post("/api/v1/journal-entries/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k2").status_code == 422
    assert alice.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="k2").status_code == 201


@pytest.mark.django_db
def test_an_unprintable_key_is_a_malformed_request(accountant, chart):
    response = accountant.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_racing_twins_with_one_key_execute_once(make_client, chart):
    client = make_client("accountant")

    def post(_index: int):
        response = client.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_IDEMPOTENCY_KEY="twin")
        return response.status_code, response.json()

    results = run_in_threads(6, post)

    assert all(isinstance(r, tuple) for r in results), results
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert models.JournalEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_to_one_invoice_all_land_without_if_match(make_client, chart):
    client = make_client("accountant")
    invoice = client.post(
        "/api/v1/invoices/",
        {
            "customer": "ACME",
            "due_date": "2026-04-30",
            "lines": [{"description": "x", "quantity": "1", "unit_price": "100.00", "account": "4000"}],
        },
        format="json",
    ).json()
    client.post(f"/api/v1/invoices/{invoice['id']}/issue/", {"issue_date": "2026-03-01"}, format="json")
    payments = [
        client.post(
            "/api/v1/payments/",
            {"customer": "ACME", "amount": "10.00", "date": "2026-03-02", "deposit_account": "1000"},
            format="json",
        ).json()["id"]
        for _ in range(6)
    ]

    def allocate(index: int) -> int:
        return client.post(
            f"/api/v1/payments/{payments[index]}/allocate/",
            {"invoice": invoice["id"], "amount": "10.00"},
            format="json",
        ).status_code

    statuses = run_in_threads(6, allocate)

    assert statuses == [200] * 6
    after = client.get(f"/api/v1/invoices/{invoice['id']}/").json()
    assert (after["amount_paid"], after["outstanding"], after["version"]) == ("60.00", "40.00", 8)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/accounts/"),
        ("post", "/api/v1/journal-entries/"),
        ("get", "/api/v1/reports/trial-balance/"),
        ("get", "/api/v1/events/"),
        ("get", "/api/v1/events/stream/"),
        ("get", "/api/schema/"),
    ],
)
def test_no_credentials_or_a_bad_token_is_401(method, path):
    anonymous = APIClient(SERVER_NAME="localhost")
    assert getattr(anonymous, method)(path).status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = getattr(anonymous, method)(path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_readers_read_but_only_accountants_write(make_client, chart, role):
    reader = make_client(role)
    assert reader.get("/api/v1/accounts/").status_code == 200
    assert reader.get("/api/v1/reports/ar-aging/").status_code == 200
    assert reader.post("/api/v1/journal-entries/", ENTRY, format="json").status_code == 403
    assert reader.post("/api/v1/accounts/1000/deactivate/").status_code == 403
    assert reader.patch("/api/v1/accounts/1000/", {"name": "x"}, format="json").status_code == 403
    assert models.JournalEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_user_without_a_role_can_do_nothing(make_client, chart):
    nobody = make_client(None)
    assert nobody.get("/api/v1/accounts/").status_code == 403


@pytest.mark.django_db
def test_issue_token_prints_only_a_key_that_is_stored_hashed(chart):
    out = StringIO()
    call_command("issue_token", "robot", "--role", "viewer", "--create", stdout=out)
    key = out.getvalue().strip()

    assert len(key.split()) == 1
    assert not ApiToken.objects.filter(key_hash=key).exists()
    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/accounts/").status_code == 200
    assert client.post("/api/v1/journal-entries/", ENTRY, format="json").status_code == 403


# Positions are given after commit, so these run in committed transactions.
@pytest.mark.django_db(transaction=True)
def test_each_aggregate_shows_its_events_with_metadata(accountant, chart):
    posted = accountant.post("/api/v1/journal-entries/", ENTRY, format="json", HTTP_X_REQUEST_ID="req-42").json()
    accountant.post(
        f"/api/v1/journal-entries/{posted['id']}/reverse/", {"date": "2026-03-06", "reason": "x"}, format="json"
    )

    response = accountant.get(f"/api/v1/journal-entries/{posted['id']}/events/")

    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["version"], e["type"], e["schema_version"]) for e in events] == [
        (1, "JournalEntryPosted", 1),
        (2, "JournalEntryReversed", 1),
    ]
    assert events[0]["metadata"]["request_id"] == "req-42"
    assert events[0]["metadata"]["actor"] == accountant.user.username
    assert all(all(e["metadata"].values()) for e in events)
    assert events[0]["data"]["lines"][0]["debit"] == "100.00"
    assert all(isinstance(e["position"], int) for e in events)
    chart_events = accountant.get("/api/v1/chart/events/?limit=3").json()
    assert [e["type"] for e in chart_events["results"]] == ["AccountOpened"] * 3
    assert chart_events["next"] is not None


@pytest.mark.django_db(transaction=True)
def test_the_feed_pages_by_position(accountant, chart):
    accountant.post("/api/v1/journal-entries/", ENTRY, format="json")
    everything = accountant.get("/api/v1/events/?after=0&limit=1000").json()
    positions = [e["position"] for e in everything["results"]]
    assert positions == sorted(positions)
    assert everything["last_position"] == positions[-1]

    page = accountant.get(f"/api/v1/events/?after={positions[2]}&limit=2").json()
    assert [e["position"] for e in page["results"]] == positions[3:5]
    assert page["last_position"] == positions[4]
    tail = accountant.get(f"/api/v1/events/?after={positions[-1]}").json()
    assert tail == {"results": [], "last_position": positions[-1]}
    assert accountant.get("/api/v1/events/?after=-1").status_code == 400
    assert accountant.get("/api/v1/events/?after=abc").status_code == 400


@pytest.mark.django_db
def test_health_endpoints_are_open(client):
    assert client.get("/healthz", SERVER_NAME="localhost").status_code == 200
    ready = client.get("/readyz", SERVER_NAME="localhost")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] is True


@pytest.mark.django_db
def test_errors_are_problem_json_for_the_api_and_html_pages_for_the_admin(client):
    api = client.get("/api/v1/no-such-thing/", SERVER_NAME="localhost")
    assert (api.status_code, api["Content-Type"]) == (404, "application/problem+json")
    admin = client.get("/admin/no-such-thing/", SERVER_NAME="localhost", follow=True)
    assert admin["Content-Type"].startswith("text/html")
