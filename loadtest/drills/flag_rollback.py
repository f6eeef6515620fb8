"""Drill: rollback by flag. A flag gates the journal-entry endpoint at 100 %; while
clients of several users keep posting through two gunicorn workers, an operator sets it to
0 %. Within 2 s of the change no new request may enter the cohort (an out-of-cohort
request gets the gate's 404 problem+json, never a 5xx).

    python -m loadtest.drills.flag_rollback      (DATABASE_URL, REDIS_URL from the environment)
"""

import itertools
import json
import os
import sys
import threading
import time

import httpx

from loadtest.drills import books
from loadtest.drills.load import Load, summary
from loadtest.drills.server import Gunicorn, manage, service_environment

FLAG = "drill-journal-gate"
GATED_PATH = "/api/v1/journal-entries/"
BOUND_SECONDS = 2.0


def operator_token(environment: dict[str, str]) -> str:
    return manage(environment, "issue_token", "drill-operator", "--role", "operator", "--create").strip()


def accountant_tokens(environment: dict[str, str], count: int) -> list[str]:
    return [
        manage(environment, "issue_token", f"drill-accountant-{index}", "--role", "accountant", "--create").strip()
        for index in range(count)
    ]


def set_flag(base_url: str, token: str, percentage: str, reason: str, gated: bool = True) -> None:
    """Create the flag at ``percentage`` or change it, gating the journal-entry endpoint
    unless ``gated`` is false; the API call returns once the change has committed."""
    headers = books.auth(token)
    body = {"percentage": percentage, "enabled": True, "path_prefixes": [GATED_PATH] if gated else [], "reason": reason}
    response = httpx.patch(f"{base_url}/api/v1/rollout/flags/{FLAG}/", json=body, headers=headers, timeout=30)
    if response.status_code == 404:
        body = {**body, "name": FLAG, "description": "rollback drill: gates the journal-entry endpoint"}
        response = httpx.post(f"{base_url}/api/v1/rollout/flags/", json=body, headers=headers, timeout=30)
    response.raise_for_status()


def posting_as(tokens: list[str]):
    """A ``send`` that posts each entry as the next of several users, so the flag is
    decided for many subjects, not one."""
    turns = itertools.cycle(tokens)
    lock = threading.Lock()

    def send(client: httpx.Client, key: str) -> httpx.Response:
        with lock:
            token = next(turns)
        return client.post(GATED_PATH, json=books.entry(), headers={**books.auth(token), "Idempotency-Key": key})

    return send


def in_cohort(outcome) -> bool:
    return FLAG in outcome.rollout.split(",")


def run(database_url: str, redis_url: str = "", clients: int = 4, users: int = 8) -> dict:
    environment = service_environment(database_url, redis_url)
    books.prepare_database(environment)
    operator = operator_token(environment)
    tokens = accountant_tokens(environment, users)
    with Gunicorn(environment, workers=2) as server:
        books.open_accounts(server.base_url, tokens[0])
        set_flag(server.base_url, operator, "100", "drill: open the gate")
        try:
            time.sleep(BOUND_SECONDS)  # every worker sees the open gate
            load = Load(server.base_url, posting_as(tokens), clients=clients, max_seconds=60, retries=2).start()
            time.sleep(2.0)
            # Timed from the moment the change is sent: stricter than from its commit.
            changed_at = time.monotonic()
            set_flag(server.base_url, operator, "0", "drill: roll back")
            time.sleep(BOUND_SECONDS + 2.0)
            outcomes = load.stop()
        finally:
            # A gate left closed would refuse every later write to this database.
            set_flag(server.base_url, operator, "0", "drill: done, gate removed", gated=False)

    entered_after = [o for o in outcomes if in_cohort(o) and o.started > changed_at]
    late = [o for o in entered_after if o.started - changed_at > BOUND_SECONDS]
    kept_out = [o for o in outcomes if o.started > changed_at + BOUND_SECONDS]
    overall = summary(outcomes)
    return {
        "drill": "flag-rollback",
        "requests": overall["requests"],
        "statuses": overall["statuses"],
        "server_errors": overall["server_errors"],
        "in_cohort_before_change": sum(in_cohort(o) for o in outcomes if o.finished < changed_at),
        "entered_cohort_after_change": len(entered_after),
        "last_entry_into_cohort_after_seconds": round(
            max((o.started - changed_at for o in entered_after), default=0), 3
        ),
        "entered_cohort_later_than_bound": len(late),
        "requests_after_bound": len(kept_out),
        "requests_after_bound_out_of_cohort_404": sum(o.status == 404 and not in_cohort(o) for o in kept_out),
    }


def passed(result: dict) -> bool:
    return (
        result["in_cohort_before_change"] > 0
        and result["entered_cohort_later_than_bound"] == 0
        and result["requests_after_bound"] > 0
        and result["requests_after_bound_out_of_cohort_404"] == result["requests_after_bound"]
        and result["server_errors"] == 0
    )


def main() -> int:
    result = run(os.environ["DATABASE_URL"], os.environ.get("REDIS_URL", ""))
    print(json.dumps(result, indent=2))  # noqa: T201 - the drill's report
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
