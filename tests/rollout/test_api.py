import json

import pytest
from django.test import Client

from finance.api.auth import issue_token
from rollout.models import Flag
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

FLAGS = "/api/v1/rollout/flags/"


@pytest.fixture
def as_role(make_user):
    def make(role: str, username: str | None = None) -> Client:
        user = make_user(username or f"{role}-user", role)
        return Client(headers={"Authorization": f"Token {issue_token(user)}"})

    return make


@pytest.fixture
def operator(as_role):
    return as_role("operator")


def send(client: Client, method: str, url: str, body, **headers):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", secure=True, **headers)


def create(client, **fields):
    return send(client, "post", FLAGS, {"name": "beta", "reason": "launch", **fields})


def test_an_operator_creates_a_flag(operator, make_user):
    make_user("ana")

    response = create(operator, description="Beta UI", percentage="12.50", users=["ana"], path_prefixes=["/beta/"])

    assert response.status_code == 201
    assert response["ETag"] == '"1"'
    assert response["Location"] == "/api/v1/rollout/flags/beta/"
    body = response.json()
    assert {k: body[k] for k in ("name", "enabled", "percentage", "users", "path_prefixes", "ramp", "version")} == {
        "name": "beta",
        "enabled": True,
        "percentage": "12.50",
        "users": ["ana"],
        "path_prefixes": ["/beta/"],
        "ramp": None,
        "version": 1,
    }
    assert body["updated_by"] == "operator-user"


def test_no_credentials_is_401_and_wrong_role_403(as_role):
    anonymous = Client()
    viewer = as_role("viewer")

    assert anonymous.get(FLAGS, secure=True).status_code == 401
    assert anonymous.get("/api/v1/rollout/me/", secure=True).status_code == 401
    denied = create(viewer)
    assert (denied.status_code, denied["Content-Type"]) == (403, "application/problem+json")
    assert viewer.get(FLAGS, secure=True).status_code == 200
    assert not Flag.objects.exists()


def test_a_json_number_percentage_is_400_and_three_decimals_422(operator):
    number = create(operator, percentage=12.5)
    decimals = create(operator, percentage="12.345")

    assert (number.status_code, number.json()["errors"][0]["field"]) == (400, "percentage")
    assert (decimals.status_code, decimals.json()["errors"][0]["field"]) == (422, "percentage")
    assert decimals["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "beta"}, 400),  # no reason
        ({"name": "beta", "reason": ""}, 400),
        ({"name": "beta", "reason": "   "}, 400),
        ({"name": "beta", "reason": "x", "description": 12}, 400),
        ({"name": "beta", "reason": "x", "enabled": "yes"}, 400),
        ({"name": "beta", "reason": "x", "users": "ana"}, 400),
        ({"name": "beta", "reason": "x", "colour": "red"}, 400),
        ({"reason": "x"}, 400),
        ({"name": "has space", "reason": "x"}, 422),
        ({"name": "beta", "reason": "x", "users": ["ghost"]}, 422),
        ({"name": "beta", "reason": "x", "percentage": "101"}, 422),
        ({"name": "beta", "reason": "x", "path_prefixes": ["/admin/"]}, 422),
        ({"name": "beta", "reason": "x", "ramp": {"stages": "fast"}}, 422),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(operator, body, status):
    response = send(operator, "post", FLAGS, body)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert not Flag.objects.exists()


def test_malformed_json_is_400(operator):
    response = operator.post(FLAGS, data="{nope", content_type="application/json", secure=True)

    assert response.status_code == 400


def test_a_duplicate_name_is_409(operator):
    create(operator)

    assert create(operator).status_code == 409


def test_get_one_flag_with_its_etag(operator, as_role):
    create(operator)

    response = as_role("viewer").get(f"{FLAGS}beta/", secure=True)

    assert (response.status_code, response["ETag"], response.json()["version"]) == (200, '"1"', 1)
    assert as_role("accountant").get(f"{FLAGS}nope/", secure=True).status_code == 404


def test_patch_changes_only_the_fields_sent(operator):
    create(operator, description="keep me")

    response = send(operator, "patch", f"{FLAGS}beta/", {"percentage": "50", "reason": "half"})

    assert response.status_code == 200
    assert (response.json()["percentage"], response.json()["description"], response["ETag"]) == (
        "50.00",
        "keep me",
        '"2"',
    )


def test_patch_with_a_stale_if_match_is_412(operator):
    create(operator)
    send(operator, "patch", f"{FLAGS}beta/", {"percentage": "5", "reason": "a"}, HTTP_IF_MATCH='"1"')

    stale = send(operator, "patch", f"{FLAGS}beta/", {"percentage": "6", "reason": "b"}, HTTP_IF_MATCH='"1"')
    malformed = send(operator, "patch", f"{FLAGS}beta/", {"percentage": "6", "reason": "b"}, HTTP_IF_MATCH="one")

    assert (stale.status_code, malformed.status_code) == (412, 400)
    assert Flag.objects.get(name="beta").percentage == 5


def test_the_name_never_changes(operator):
    create(operator)

    assert send(operator, "patch", f"{FLAGS}beta/", {"name": "gamma", "reason": "x"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_without_if_match_lose_no_update(operator):
    create(operator)
    bodies = [{"description": "from one", "reason": "one"}, {"percentage": "40", "reason": "two"}]

    def patch(index: int):
        return send(operator, "patch", f"{FLAGS}beta/", bodies[index]).status_code

    statuses = run_in_threads(2, patch)

    flag = Flag.objects.get(name="beta")
    assert statuses == [200, 200]
    assert (flag.description, flag.percentage, flag.version, flag.changes.count()) == ("from one", 40, 3, 3)


def test_history_lists_who_what_when_why(operator):
    create(operator)
    send(operator, "patch", f"{FLAGS}beta/", {"enabled": False, "reason": "incident 42"})

    response = operator.get(f"{FLAGS}beta/history/", secure=True)

    assert response.status_code == 200
    latest = response.json()["results"][0]
    assert {k: latest[k] for k in ("flag", "version", "actor", "source", "reason", "changes")} == {
        "flag": "beta",
        "version": 2,
        "actor": "operator-user",
        "source": "api",
        "reason": "incident 42",
        "changes": {"enabled": {"old": True, "new": False}},
    }
    assert [c["version"] for c in response.json()["results"]] == [2, 1]
    assert operator.get(f"{FLAGS}nope/history/", secure=True).status_code == 404


def test_list_is_paginated_by_name(operator):
    for name in ("c", "a", "b"):
        send(operator, "post", FLAGS, {"name": name, "reason": "r"})

    first = operator.get(f"{FLAGS}?limit=2", secure=True).json()
    second = operator.get(first["next"], secure=True).json()

    assert [f["name"] for f in first["results"]] == ["a", "b"]
    assert ([f["name"] for f in second["results"]], second["next"]) == (["c"], None)


def test_me_answers_for_the_caller(operator, as_role, django_capture_on_commit_callbacks):
    viewer, accountant = as_role("viewer"), as_role("accountant")
    # As after each commit: the new version is published and this process reloads.
    with django_capture_on_commit_callbacks(execute=True):
        send(operator, "post", FLAGS, {"name": "everyone", "reason": "r", "percentage": "100"})
        send(operator, "post", FLAGS, {"name": "nobody", "reason": "r"})
        send(operator, "post", FLAGS, {"name": "viewers", "reason": "r", "groups": ["viewer"]})

    mine = viewer.get("/api/v1/rollout/me/", secure=True)
    theirs = accountant.get("/api/v1/rollout/me/", secure=True)

    assert mine.json() == {"everyone": True, "nobody": False, "viewers": True}
    assert theirs.json() == {"everyone": True, "nobody": False, "viewers": False}
    assert mine["X-Rollout"] == "everyone,viewers"


def test_a_ramp_through_the_api(operator):
    create(operator)
    plan = {
        "stages": [{"percentage": "10", "hold_seconds": 300}, {"percentage": "100", "hold_seconds": 300}],
        "max_error_rate": "0.01",
        "max_p95_ms": 500,
    }

    started = send(operator, "patch", f"{FLAGS}beta/", {"ramp": plan, "reason": "ramp"}).json()
    paused = send(operator, "patch", f"{FLAGS}beta/", {"ramp": {"status": "paused"}, "reason": "wait"})
    manual = send(operator, "patch", f"{FLAGS}beta/", {"percentage": "50", "reason": "by hand"})

    assert started["percentage"] == "10.00"
    assert {k: started["ramp"][k] for k in ("status", "stage", "min_requests")} == {
        "status": "running",
        "stage": 1,
        "min_requests": 100,
    }
    assert paused.json()["ramp"]["status"] == "paused"
    assert manual.status_code == 409


def test_the_schema_documents_the_rollout_api(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert {
        "/api/v1/rollout/flags/",
        "/api/v1/rollout/flags/{name}/",
        "/api/v1/rollout/flags/{name}/history/",
        "/api/v1/rollout/me/",
    } <= set(schema["paths"])


def test_an_idempotency_key_replays_the_creation(operator):
    body = {"name": "beta", "reason": "launch"}

    first = send(operator, "post", FLAGS, body, HTTP_IDEMPOTENCY_KEY="create-beta-1")
    again = send(operator, "post", FLAGS, body, HTTP_IDEMPOTENCY_KEY="create-beta-1")
    other = send(operator, "post", FLAGS, {**body, "percentage": "5"}, HTTP_IDEMPOTENCY_KEY="create-beta-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert other.status_code == 422
    assert Flag.objects.get(name="beta").changes.count() == 1
