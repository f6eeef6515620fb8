"""Drill: Postgres restarted under a write load. Meanwhile /readyz answers 503 (the pod
leaves the Service) and writes are refused with 503 problem+json, never a 500; afterwards
the same gunicorn processes serve again without a restart, and every write acknowledged
with a 201 is still there. Runs its own throwaway Postgres cluster.

    python -m loadtest.drills.postgres_restart      (REDIS_URL from the environment, optional)
"""

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from loadtest.drills import books
from loadtest.drills.load import Load, summary
from loadtest.drills.postgres import PrivateCluster
from loadtest.drills.server import PROXY_HEADERS, Gunicorn, service_environment


@dataclass
class ReadinessWatch:
    """Polls /readyz every ``period`` seconds, as the kubelet would, recording answers."""

    base_url: str
    period: float = 0.1
    answers: list[tuple[float, int | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "ReadinessWatch":
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=PROXY_HEADERS, timeout=3) as client:
            while not self._stop.is_set():
                try:
                    status = client.get("/readyz").status_code
                except httpx.TransportError:
                    status = None
                self.answers.append((time.monotonic(), status))
                self._stop.wait(self.period)

    def first(self, status: int, after: float) -> float | None:
        return next((at for at, answer in self.answers if at > after and answer == status), None)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def run(redis_url: str = "", clients: int = 4, downtime: float = 3.0) -> dict:
    with PrivateCluster() as cluster:
        database_url = cluster.url("finance")
        environment = service_environment(database_url, redis_url)
        token = books.prepare_database(environment)
        with Gunicorn(environment, workers=2) as server:
            books.open_accounts(server.base_url, token)
            processes_before = (server.process.pid, server.worker_pids())
            watch = ReadinessWatch(server.base_url).start()
            load = Load(server.base_url, books.post_entry(token), clients=clients, max_seconds=90).start()
            time.sleep(2.0)

            down_at = time.monotonic()
            cluster.stop(mode="fast")
            time.sleep(downtime)
            cluster.start()
            up_at = time.monotonic()
            deadline = up_at + 30
            while watch.first(200, after=up_at) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            recovered_at = watch.first(200, after=up_at)
            time.sleep(2.0)  # writes keep flowing after recovery

            outcomes = load.stop()
            watch.stop()
            processes_after = (server.process.pid, server.worker_pids())
            missing = books.missing_entries(server.base_url, token, books.acknowledged_ids(outcomes))

    outage_end = recovered_at if recovered_at is not None else float("inf")
    during = [o for o in outcomes if o.finished >= down_at and o.started <= outage_end]
    outside = [o for o in outcomes if o not in during]
    after_recovery = [o for o in outcomes if o.started > outage_end]
    first_503 = watch.first(503, after=down_at)
    overall = summary(outcomes)
    return {
        "drill": "postgres-restart",
        "requests": overall["requests"],
        "statuses": overall["statuses"],
        "postgres_down_seconds": round(up_at - down_at, 2),
        "readyz_503_answers": sum(1 for at, status in watch.answers if status == 503),
        "readyz_503_after_seconds": round(first_503 - down_at, 2) if first_503 is not None else None,
        "recovered_after_postgres_up_seconds": round(recovered_at - up_at, 2) if recovered_at is not None else None,
        "refused_during_outage": sum(not o.ok for o in during),
        "refused_during_outage_not_503": sum(not o.ok and o.status != 503 for o in during),
        "failed_outside_outage": sum(not o.ok for o in outside),
        "writes_after_recovery": len(after_recovery),
        "writes_after_recovery_ok": sum(o.ok for o in after_recovery),
        "same_processes_throughout": processes_after == processes_before,
        "acknowledged_writes": len(books.acknowledged_ids(outcomes)),
        "acknowledged_writes_missing": len(missing),
    }


def passed(result: dict) -> bool:
    return (
        result["readyz_503_answers"] > 0
        and result["recovered_after_postgres_up_seconds"] is not None
        and result["refused_during_outage_not_503"] == 0
        and result["failed_outside_outage"] == 0
        and result["writes_after_recovery"] > 0
        and result["writes_after_recovery_ok"] == result["writes_after_recovery"]
        and result["same_processes_throughout"]
        and result["acknowledged_writes_missing"] == 0
    )


def main() -> int:
    result = run(os.environ.get("REDIS_URL", ""))
    print(json.dumps(result, indent=2))  # noqa: T201 - the drill's report
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
