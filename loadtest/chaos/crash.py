"""Chaos: kill -9, repeatedly, under write load. Clients post journal entries with an
Idempotency-Key and, as the API contract tells them, send a request that got no response
again with the same key. Meanwhile a random worker is killed with SIGKILL every cycle
(the master replaces it) and, every few cycles, the master itself (the service is then
started again, as a supervisor would). Afterwards every acknowledged write must be in the
log exactly once and the hash chains and read models must check out.

    python -m loadtest.chaos.crash      (runs its own throwaway Postgres cluster)
"""

import os
import random
import signal
import sys
import threading
import time
from decimal import Decimal

from loadtest.chaos import books as chaos_books
from loadtest.chaos import evidence, scenario
from loadtest.chaos.calls import Recorder, errors_by_kind, statuses
from loadtest.chaos.services import Service, private_postgres, running_service
from loadtest.drills.server import Gunicorn

# A client keeps resending a request that got no response for this long (a restart of
# the whole server takes a few seconds).
RETRY_SECONDS = 60.0


def _write(recorder: Recorder, books: chaos_books.Books, stop: threading.Event, index: int) -> None:
    with recorder.client(timeout=30) as client:
        turn = 0
        while not stop.is_set():
            turn += 1
            body = chaos_books.entry(books, Decimal(index + 1) + Decimal(turn % 100) / 100)
            recorder.send(client, "post-entry", "POST", "/api/v1/journal-entries/", json=body, retry_for=RETRY_SECONDS)


def _wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """The pids still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: PTH123, SIM115 - a one-line read of procfs
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _kill_worker(server: Gunicorn) -> float:
    """SIGKILL one worker; seconds until the master has replaced it and it serves."""
    victim = random.choice(sorted(server.worker_pids()))
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    deadline = killed_at + 60
    while time.monotonic() < deadline:
        workers = server.worker_pids()
        if victim not in workers and len(workers) == server.workers:
            server.wait_until_serving(60)
            return time.monotonic() - killed_at
        time.sleep(0.05)
    raise RuntimeError(f"worker {victim} was not replaced within 60 s")


def _kill_master(service: Service) -> tuple[float, int]:
    """SIGKILL the master; start the service again on the same port once its orphaned
    workers are gone. Returns (seconds until it serves again, workers that outlived their
    master by more than 10 s and had to be killed)."""
    old = service.server
    workers = old.worker_pids()
    killed_at = time.monotonic()
    old.process.send_signal(signal.SIGKILL)
    old.process.wait(timeout=10)
    lingering = _wait_until_gone(workers, timeout=10)
    for pid in lingering:
        os.kill(pid, signal.SIGKILL)
    _wait_until_gone(lingering, timeout=10)
    server = Gunicorn(service.environment, workers=old.workers, port=old.port)
    service.server = server
    server.start()
    return time.monotonic() - killed_at, len(lingering)


def run(database_url: str, clients: int = 8, cycles: int = 6, master_every: int = 3, interval: float = 2.0) -> dict:
    with running_service(database_url) as service:
        recorder = Recorder(service.server.base_url, service.token)
        books = chaos_books.set_up(recorder)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_write, args=(recorder, books, stop, index), daemon=True)
            for index in range(clients)
        ]
        for thread in threads:
            thread.start()
        worker_recovery, master_recovery, orphans = [], [], 0
        try:
            for cycle in range(1, cycles + 1):
                time.sleep(interval)
                if cycle % master_every == 0:
                    seconds, lingering = _kill_master(service)
                    master_recovery.append(seconds)
                    orphans += lingering
                else:
                    worker_recovery.append(_kill_worker(service.server))
            time.sleep(interval)  # writes flow after the last recovery
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=RETRY_SECONDS + 30)
        calls = list(recorder.calls)
        balance = chaos_books.balance(recorder, books.debit)
        written = evidence.events_by_request(database_url, recorder.run_id)
        integrity = evidence.integrity(service.environment)

    acknowledged = [call for call in calls if call.ok]
    posted = sum((Decimal(call.body["lines"][0]["debit"]) for call in acknowledged), Decimal(0))
    return {
        "scenario": "crash",
        "clients": clients,
        "workers_killed": len(worker_recovery),
        "masters_killed": len(master_recovery),
        "requests": len(calls),
        "statuses": statuses(calls),
        "errors_by_kind": errors_by_kind(calls),
        "server_errors": sum(call.status is not None and call.status >= 500 for call in calls),
        "resent_after_no_response": sum(call.attempts > 1 for call in calls),
        **evidence.compare(calls, written),
        "entries_balance": str(balance),
        "entries_acknowledged_total": str(posted),
        "worker_replaced_after_seconds": [round(seconds, 2) for seconds in worker_recovery],
        "serving_again_after_master_kill_seconds": [round(seconds, 2) for seconds in master_recovery],
        "workers_outliving_their_master": orphans,
        **integrity,
    }


def passed(result: dict) -> bool:
    return (
        result["acknowledged"] > 0
        and result["workers_killed"] > 0
        and result["masters_killed"] > 0
        and result["workers_outliving_their_master"] == 0
        and result["missing"] == 0
        and result["duplicated"] == 0
        and result["wrong_events"] == 0
        and result["refused_but_written"] == 0
        and result["written_by_unknown_requests"] == 0
        and result["server_errors"] == 0
        and result["errors_by_kind"] == {}
        and Decimal(result["entries_balance"]) == Decimal(result["entries_acknowledged_total"])
        and result["verify_events"] == "ok"
        and result["verify_projections"] == "ok"
    )


def main() -> int:
    with private_postgres() as cluster:
        result = run(cluster.url("finance"))
    return scenario.finish(result, passed(result))


if __name__ == "__main__":
    sys.exit(main())
