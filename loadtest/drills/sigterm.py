"""Drill: SIGTERM to gunicorn while clients post batches of journal entries (requests
that take a while), as Kubernetes does: new requests stop arriving, then SIGTERM. Every
request in flight at that moment must complete successfully, none may get a 5xx,
gunicorn must exit 0 within its graceful timeout, and every acknowledged entry must still
be there.

    python -m loadtest.drills.sigterm      (DATABASE_URL, REDIS_URL from the environment)
"""

import json
import os
import signal
import sys
import time

from loadtest.drills import books
from loadtest.drills.load import Load, summary
from loadtest.drills.server import Gunicorn, service_environment


def run(database_url: str, redis_url: str = "", clients: int = 4, batch_size: int = 100) -> dict:
    environment = service_environment(database_url, redis_url)
    token = books.prepare_database(environment)
    server = Gunicorn(environment, workers=2, graceful_timeout=20).start()
    try:
        books.open_accounts(server.base_url, token)
        load = Load(
            server.base_url, books.post_batch(token, batch_size), clients=clients, max_seconds=60, stop_on_refused=True
        ).start()
        time.sleep(2.0)
        load.wait_for_in_flight(clients)
        # As in Kubernetes: traffic stops arriving (the endpoint is removed during the
        # preStop sleep), then SIGTERM reaches gunicorn with requests still in flight.
        load.halt()
        time.sleep(0.2)
        term_at = time.monotonic()
        server.signal(signal.SIGTERM)
        exit_code = server.wait(timeout=server.graceful_timeout + 10)
        shutdown_seconds = time.monotonic() - term_at
        outcomes = load.stop()
    finally:
        server.stop()

    in_flight = [o for o in outcomes if o.started < term_at < o.finished]
    after = [o for o in outcomes if o.started >= term_at]
    with Gunicorn(environment, workers=1) as again:
        missing = books.missing_entries(again.base_url, token, books.acknowledged_ids(outcomes))
    overall = summary(outcomes)
    return {
        "drill": "sigterm",
        "requests": overall["requests"],
        "latency_p50_seconds": overall["latency_p50_seconds"],
        "in_flight_at_sigterm": len(in_flight),
        "in_flight_completed_ok": sum(o.ok for o in in_flight),
        "failed_before_sigterm": sum(not o.ok for o in outcomes if o.finished <= term_at),
        "server_errors": overall["server_errors"],
        "sent_after_sigterm": len(after),
        "gunicorn_exit_code": exit_code,
        "shutdown_seconds": round(shutdown_seconds, 2),
        "acknowledged_entries": len(books.acknowledged_ids(outcomes)),
        "acknowledged_entries_missing": len(missing),
    }


def passed(result: dict) -> bool:
    return (
        result["in_flight_at_sigterm"] > 0
        and result["in_flight_completed_ok"] == result["in_flight_at_sigterm"]
        and result["failed_before_sigterm"] == 0
        and result["server_errors"] == 0
        and result["gunicorn_exit_code"] == 0
        and result["acknowledged_entries_missing"] == 0
    )


def main() -> int:
    result = run(os.environ["DATABASE_URL"], os.environ.get("REDIS_URL", ""))
    print(json.dumps(result, indent=2))  # noqa: T201 - the drill's report
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
