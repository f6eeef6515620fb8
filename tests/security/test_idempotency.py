"""Every POST of the API, retried with one ``Idempotency-Key`` one after another and at the
same moment, has exactly one effect and one answer (api.md, "Idempotency")."""

import json

import pytest
from django.db.models import Max

from finance.models import Event
from rollout.models import FlagChange
from tests.concurrency import run_in_threads
from tests.security.endpoints import MATRIX

# Every POST route, with the role that may call it.
POSTS = sorted(
    (name, next(role for role, status in row[1]["POST"].items() if 200 <= status < 300))
    for name, row in MATRIX.items()
    if "POST" in row[1]
)
IDS = [name for name, _ in POSTS]
RACERS = 4


def mark() -> tuple[int, int]:
    """Where the event log and the rollout audit log stand."""
    return Event.objects.aggregate(last=Max("sequence"))["last"] or 0, FlagChange.objects.count()


def effects_since(since: tuple[int, int]) -> list[str]:
    """What changed since ``since``: the request id of each request whose events were
    written, and one item for each rollout change (flags are not event-sourced; each
    change writes one audit row)."""
    sequence, changes = since
    events = {json.loads(e.metadata)["request_id"] for e in Event.objects.filter(sequence__gt=sequence)}
    return sorted(events) + ["flag change"] * (FlagChange.objects.count() - changes)


def post(client, name: str, world: dict, key: str, request_id: str, body=None):
    path_template, _, bodies = MATRIX[name]
    if body is None and "POST" in bodies:
        body = bodies["POST"](world)
    return client.post(
        path_template.format(**world),
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
        HTTP_X_REQUEST_ID=request_id,
    )


def test_every_post_route_is_covered():
    assert len(POSTS) >= 15, POSTS


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), POSTS, ids=IDS)
def test_a_retry_replays_the_first_answer_and_another_body_is_422(world, clients, name, role):
    client = clients[role]
    before = mark()
    first = post(client, name, world, "retry-1", "first")
    assert 200 <= first.status_code < 300, first.content
    after_first = mark()

    again = [post(client, name, world, "retry-1", f"retry-{n}") for n in range(2)]
    other = post(client, name, world, "retry-1", "other", body={"something": "else"})

    assert [(r.status_code, r.json(), r["Idempotent-Replayed"]) for r in again] == [
        (first.status_code, first.json(), "true")
    ] * 2
    assert "Idempotent-Replayed" not in first
    assert (other.status_code, other["Content-Type"]) == (422, "application/problem+json")
    assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
    assert effects_since(after_first) == []
    assert len(effects_since(before)) == 1


@pytest.mark.django_db
def test_the_same_key_on_another_route_is_422(world, clients):
    accountant = clients["accountant"]
    assert post(accountant, "journal-entries", world, "shared", "a").status_code == 201
    assert post(accountant, "payments", world, "shared", "b").status_code == 422


# One committed world for every route: a transactional test pays for emptying the
# database afterwards, and the races do not interfere (each acts on its own objects).
@pytest.mark.django_db(transaction=True)
def test_racing_retries_execute_once_and_all_get_that_answer(world, clients):
    outcomes = {name: race(clients[role], name, world) for name, role in POSTS}
    assert outcomes == dict.fromkeys(IDS, "once")


def race(client, name: str, world: dict) -> str:
    """``"once"`` when RACERS requests with one key executed once and every answer is
    that execution's, replayed (or, as api.md allows a twin that waited too long, a
    409 "still in flight"); else what went wrong."""
    before = mark()

    def attempt(index: int):
        response = post(client, name, world, f"race-{name}", f"racer-{name}-{index}")
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results = run_in_threads(RACERS, attempt)

    if not all(isinstance(result, tuple) for result in results):
        return f"raised: {results}"
    executed = [r for r in results if r[2] is None and r[0] != 409]
    if len(executed) != 1 or not 200 <= executed[0][0] < 300:
        return f"executed {len(executed)} times: {results}"
    status, body, _ = executed[0]
    others = [r for r in results if (r[0], r[1]) != (status, body) and (r[0], r[2]) != (409, None)]
    if others:
        return f"answered differently: {others}"
    effects = effects_since(before)
    return "once" if len(effects) == 1 else f"effects: {effects}"
