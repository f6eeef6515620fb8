"""Chaos: Postgres restarted under write load (a private cluster, stopped with
``pg_ctl stop -m fast`` — in-flight transactions are cut off — and started again). While
it is away every request must fail fast with 503 problem+json, never hang and never 500;
afterwards the same gunicorn processes serve again, and every write acknowledged before
or after is in the log exactly once.

    python -m loadtest.chaos.postgres_restart      (runs its own throwaway Postgres cluster)
"""

import sys
import threading
import time
from decimal import Decimal

from loadtest.chaos import books as chaos_books
from loadtest.chaos import evidence, scenario
from loadtest.chaos.calls import Recorder, errors_by_kind, statuses
from loadtest.chaos.services import private_postgres, running_service
from loadtest.drills.postgres import PrivateCluster
from loadtest.drills.postgres_restart import ReadinessWatch


def _write(recorder: Recorder, books: chaos_books.Books, stop: threading.Event, index: int) -> None:
    with recorder.client(timeout=60) as client:
        turn = 0
        while not stop.is_set():
            turn += 1
            body = chaos_books.entry(books, Decimal(index + 1) + Decimal(turn % 100) / 100)
            recorder.send(client, "post-entry", "POST", "/api/v1/journal-entries/", json=body)
            time.sleep(0.02)  # a failing request returns at once; keep the count readable


def run(cluster: PrivateCluster, clients: int = 4, downtime: float = 3.0) -> dict:
    database_url = cluster.url("finance")
    with running_service(database_url) as service:
        recorder = Recorder(service.server.base_url, service.token)
        books = chaos_books.set_up(recorder)
        processes_before = (service.server.process.pid, service.server.worker_pids())
        watch = ReadinessWatch(service.server.base_url).start()
        stop = threading.Event()
        threads = [
            threading.Thread(target=_write, args=(recorder, books, stop, i), daemon=True) for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2.0)
            down_at = time.monotonic()
            cluster.stop(mode="fast")
            time.sleep(downtime)
            cluster.start()
            up_at = time.monotonic()
            deadline = up_at + 30
            while not any(call.ok and call.started > up_at for call in list(recorder.calls)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            time.sleep(2.0)  # writes flow after recovery
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=90)
            watch.stop()
        processes_after = (service.server.process.pid, service.server.worker_pids())
        refused_writes = [call for call in recorder.calls if not call.ok]
        # What the contract tells a client to do with a refused write: send it again
        # with the same Idempotency-Key. It executes at most once either way.
        with recorder.client() as client:
            resent = [recorder.resend(client, call) for call in refused_writes]
        calls = list(recorder.calls)
        written = evidence.events_by_request(database_url, recorder.run_id)
        integrity = evidence.integrity(service.environment)

    first_ok_after = min((call.finished for call in calls if call.ok and call.started > up_at), default=None)
    outage_end = first_ok_after if first_ok_after is not None else float("inf")
    first_tries = [call for call in calls if call not in resent]
    during = [call for call in first_tries if call.finished >= down_at and call.started <= outage_end]
    refused = [call for call in during if not call.ok]
    outside = [call for call in first_tries if call not in during]
    return {
        "scenario": "postgres-restart",
        "requests": len(first_tries),
        "statuses": statuses(first_tries),
        "errors_by_kind": errors_by_kind(first_tries),
        "postgres_down_seconds": round(up_at - down_at, 2),
        "refused_during_outage": len(refused),
        "refused_not_503_problem_json": sum(not (call.status == 503 and call.problem) for call in refused),
        "slowest_refusal_seconds": round(max((call.seconds for call in refused), default=0), 2),
        "failed_outside_outage": sum(not call.ok for call in outside),
        "serving_writes_again_after_postgres_up_seconds": (
            round(first_ok_after - up_at, 2) if first_ok_after is not None else None
        ),
        "refused_then_resent": len(resent),
        "resent_ok": sum(call.ok for call in resent),
        "resent_replayed_as_already_written": sum(call.headers.get("idempotent-replayed") == "true" for call in resent),
        "readyz_503_answers": sum(1 for _, status in watch.answers if status == 503),
        "same_processes_throughout": processes_after == processes_before,
        **evidence.compare(calls, written),
        **integrity,
    }


def passed(result: dict) -> bool:
    return (
        result["refused_during_outage"] > 0
        and result["refused_not_503_problem_json"] == 0
        and result["failed_outside_outage"] == 0
        and result["resent_ok"] == result["refused_then_resent"]
        and result["serving_writes_again_after_postgres_up_seconds"] is not None
        and result["readyz_503_answers"] > 0
        and result["same_processes_throughout"]
        and result["missing"] == 0
        and result["duplicated"] == 0
        and result["refused_but_written"] == 0
        and result["verify_events"] == "ok"
        and result["verify_projections"] == "ok"
    )


def main() -> int:
    with private_postgres() as cluster:
        result = run(cluster)
    return scenario.finish(result, passed(result))


if __name__ == "__main__":
    sys.exit(main())
