"""Chaos: Redis stopped under load, then started again (empty, as after a restart
without persistence). Redis is a cache and the Celery broker, never the source of truth,
so meanwhile:

- writes and reads keep being served (the cache is bypassed);
- rollout decisions come from each worker's last good copy of the flags (a flag at 100 %
  keeps naming every request in ``X-Rollout``);
- failed task enqueues and live publishes are logged, not raised;
- ``/readyz`` answers 503, the documented policy (docs/runbook.md): the pod leaves the
  Service only after the probe's failure threshold, and comes back as soon as Redis does.

Once Redis is back, the Celery worker and beat (running throughout) catch up: the feed is
published up to the last positioned event and every stream due for a snapshot gets one.

    python -m loadtest.chaos.redis_down      (runs its own throwaway Postgres and Redis)
"""

import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from loadtest.chaos import books as chaos_books
from loadtest.chaos import evidence, scenario
from loadtest.chaos.calls import Recorder, errors_by_kind, statuses
from loadtest.chaos.services import private_postgres, running_service
from loadtest.drills.postgres_restart import ReadinessWatch
from loadtest.drills.server import ROOT, manage

FLAG = "chaos-everyone"
SNAPSHOT_EVERY = 5
SCAN_SECONDS = 3


@contextmanager
def celery_worker_and_beat(environment: dict[str, str]):
    """A Celery worker with an embedded beat, as production runs them (two processes
    there); yields the path of its log."""
    directory = Path(tempfile.mkdtemp(prefix="chaos-celery-"))
    log_path = directory / "celery.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "celery",
                "--app=config",
                "worker",
                "--beat",
                f"--schedule={directory / 'beat-schedule'}",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _feed_state(database_url: str) -> tuple[int, int]:
    """(positioned up to, published up to) of the live feed."""
    connection = psycopg.connect(database_url, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT positioned_upto, published_upto FROM finance_feed_state WHERE id = 1")
            return cursor.fetchone() or (0, 0)
    finally:
        connection.close()


def _streams_due(database_url: str) -> int:
    connection = psycopg.connect(database_url, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM finance_stream WHERE version - snapshot_version >= %s", [SNAPSHOT_EVERY]
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


def _wait_for(condition, timeout: float, since: float) -> float | None:
    """Seconds from ``since`` until ``condition()`` held, or None if it did not within
    ``timeout`` seconds of ``since``."""
    while time.monotonic() - since < timeout:
        if condition():
            return time.monotonic() - since
        time.sleep(0.2)
    return None


def _set_flag(base_url: str, token: str) -> None:
    headers = {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}
    body = {"name": FLAG, "description": "every user", "enabled": True, "percentage": "100", "reason": "chaos"}
    response = httpx.post(f"{base_url}/api/v1/rollout/flags/", json=body, headers=headers, timeout=30)
    if response.status_code not in (201, 409):
        raise RuntimeError(f"creating the flag: {response.status_code} {response.text}")


def _load(recorder: Recorder, books: chaos_books.Books, stop: threading.Event, index: int) -> None:
    """Client 0 opens accounts (the chart's stream soon needs snapshots); the others
    alternate posting an entry and reading the trial balance."""
    with recorder.client(timeout=30) as client:
        turn = 0
        while not stop.is_set():
            turn += 1
            if index == 0:
                body = {"code": f"8{turn:04d}-{books.run_id}", "name": "Chaos", "type": "expense"}
                recorder.send(client, "open-account", "POST", "/api/v1/accounts/", json=body)
            elif turn % 2:
                body = chaos_books.entry(books, Decimal(index) + Decimal(turn % 100) / 100)
                recorder.send(client, "post-entry", "POST", "/api/v1/journal-entries/", json=body)
            else:
                recorder.send(client, "read", "GET", f"/api/v1/reports/trial-balance/?as_of={chaos_books.TODAY}")


def run(database_url: str, clients: int = 4, downtime: float = 5.0, frozen: bool = False) -> dict:
    """Redis stopped (connections refused) or, with ``frozen``, hung (SIGSTOP: connections
    accepted, nothing answered — what a network partition looks like)."""
    overrides = {"FINANCE_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY), "FINANCE_SNAPSHOT_SCAN_SECONDS": str(SCAN_SECONDS)}
    with running_service(database_url, **overrides) as service:
        operator = manage(service.environment, "issue_token", "chaos-operator", "--role", "operator", "--create")
        _set_flag(service.server.base_url, operator.strip())
        recorder = Recorder(service.server.base_url, service.token)
        books = chaos_books.set_up(recorder)
        with celery_worker_and_beat(service.environment):
            time.sleep(2.0)  # every worker has loaded the flag
            watch = ReadinessWatch(service.server.base_url).start()
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(recorder, books, stop, i), daemon=True) for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            try:
                time.sleep(2.0)
                down_at = time.monotonic()
                if frozen:
                    service.redis.freeze()
                else:
                    service.redis.stop()
                time.sleep(downtime)
            finally:
                # Only beat's tasks can catch up from here: no write wakes the feed.
                stop.set()
                for thread in threads:
                    thread.join(timeout=60)
            due_before_restart = _streams_due(database_url)
            positioned, published = _feed_state(database_url)
            if frozen:
                service.redis.thaw()
            else:
                service.redis.start()
            up_at = time.monotonic()
            try:
                ready_again = _wait_for(lambda: watch.first(200, after=up_at) is not None, 30, up_at)
                feed_caught_up = _wait_for(lambda: _feed_published(database_url), 60, up_at)
                snapshots_caught_up = _wait_for(lambda: _streams_due(database_url) == 0, 60, up_at)
            finally:
                watch.stop()
            with recorder.client(timeout=30) as client:
                after = [
                    recorder.send(
                        client, "post-entry", "POST", "/api/v1/journal-entries/", json=chaos_books.entry(books, 1)
                    )
                    for _ in range(10)
                ]
        calls = list(recorder.calls)
        written = evidence.events_by_request(database_url, recorder.run_id)
        integrity = evidence.integrity(service.environment)
        server_log = service.server.log()

    during = [call for call in calls if call.finished >= down_at and call.started <= up_at and call not in after]
    flagged = [call for call in during if FLAG in call.headers.get("x-rollout", "").split(",")]
    readyz_during = [status for at, status in watch.answers if down_at + 0.5 < at < up_at]
    return {
        "scenario": "redis-frozen" if frozen else "redis-down",
        "requests": len(calls),
        "statuses": statuses(calls),
        "errors_by_kind": errors_by_kind(calls),
        "server_errors": sum(call.status is not None and call.status >= 500 for call in calls),
        "redis_down_seconds": round(up_at - down_at, 2),
        "requests_during_outage": len(during),
        "writes_during_outage_ok": sum(call.ok for call in during if call.method == "POST"),
        "reads_during_outage_ok": sum(call.ok for call in during if call.method == "GET"),
        "failed_during_outage": sum(not call.ok for call in during),
        "slowest_request_during_outage_seconds": round(max((call.seconds for call in during), default=0), 2),
        "rollout_flag_kept_during_outage": f"{len(flagged)} of {len(during)}",
        "readyz_during_outage": dict(sorted({str(s): readyz_during.count(s) for s in set(readyz_during)}.items())),
        "ready_again_after_redis_up_seconds": _seconds(ready_again),
        "failed_enqueues_logged": server_log.count("snapshot enqueue failed"),
        "failed_publishes_logged": server_log.count("feed: live publish failed"),
        "streams_due_for_snapshot_when_redis_returned": due_before_restart,
        "events_unpublished_when_redis_returned": positioned - published,
        "feed_published_after_redis_up_seconds": _seconds(feed_caught_up),
        "snapshots_caught_up_after_redis_up_seconds": _seconds(snapshots_caught_up),
        "writes_after_recovery": f"{sum(call.ok for call in after)} of {len(after)} ok",
        **evidence.compare(calls, written),
        **integrity,
    }


def _seconds(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _feed_published(database_url: str) -> bool:
    positioned, published = _feed_state(database_url)
    return positioned == published


def passed(result: dict) -> bool:
    return (
        result["requests_during_outage"] > 0
        and result["failed_during_outage"] == 0
        and result["writes_during_outage_ok"] > 0
        and result["reads_during_outage_ok"] > 0
        and result["server_errors"] == 0
        and result["rollout_flag_kept_during_outage"]
        == f"{result['requests_during_outage']} of {result['requests_during_outage']}"
        and set(result["readyz_during_outage"]) == {"503"}
        and result["ready_again_after_redis_up_seconds"] is not None
        and result["failed_enqueues_logged"] > 0
        and result["streams_due_for_snapshot_when_redis_returned"] > 0
        and result["events_unpublished_when_redis_returned"] > 0
        and result["feed_published_after_redis_up_seconds"] is not None
        and result["snapshots_caught_up_after_redis_up_seconds"] is not None
        and result["writes_after_recovery"] == "10 of 10 ok"
        and result["missing"] == 0
        and result["duplicated"] == 0
        and result["verify_events"] == "ok"
        and result["verify_projections"] == "ok"
    )


def main() -> int:
    with private_postgres() as cluster:
        result = run(cluster.url("finance"))
    return scenario.finish(result, passed(result))


if __name__ == "__main__":
    sys.exit(main())
