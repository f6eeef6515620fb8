import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from config.celery import app
from rollout import registry, traffic
from rollout.models import ChangeSource, Flag, RampStatus
from rollout.ramp import Traffic
from rollout.services import ramp_guard
from rollout.tasks import guard_ramps

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rollout.urls")]

PLAN = {
    "stages": [{"percentage": "50", "hold_seconds": 60}, {"percentage": "100", "hold_seconds": 60}],
    "max_error_rate": "0.05",
    "max_p95_ms": 10_000,
    "min_requests": 10,
}


def first_full_window(after: datetime) -> float:
    seconds = after.timestamp()
    return -(-seconds // traffic.WINDOW_SECONDS) * traffic.WINDOW_SECONDS


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds).astimezone()


def visit(monkeypatch, when: float, status: int, visitors: int) -> int:
    """``visitors`` new anonymous visitors each make one request at ``when`` (unix s);
    returns how many of them were in the flag's cohort."""
    monkeypatch.setattr(traffic, "wall_clock", lambda: when)
    in_cohort = sum("beta" in Client().get(f"/labs/status/{status}", secure=True)["X-Rollout"] for _ in range(visitors))
    registry.registry.refresh()  # the once-a-second tick flushes the counts
    return in_cohort


def guard_at(monkeypatch, when: datetime) -> dict[str, str]:
    """The beat task's run at ``when``."""
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: when)
        return guard_ramps.apply().get()


def sample(name: str, flag: str) -> float:
    return REGISTRY.get_sample_value(name, {"flag": flag}) or 0.0


def test_a_ramp_advances_under_good_traffic_and_rolls_back_under_5xx(
    monkeypatch, make_flag, caplog, django_capture_on_commit_callbacks
):
    flag = make_flag("beta", ramp=PLAN)
    window = first_full_window(flag.ramp_stage_started_at)
    advances, rollbacks = sample("rollout_ramp_advances_total", "beta"), sample("rollout_ramp_rollbacks_total", "beta")

    # given good traffic through stage 1 (50 %)
    good = visit(monkeypatch, window + 5, 200, 80)
    # when the guard runs before and after the hold
    with django_capture_on_commit_callbacks(execute=True):
        early = guard_at(monkeypatch, flag.ramp_stage_started_at + timedelta(seconds=59))
        advanced = guard_at(monkeypatch, at(window + 61))

    flag = Flag.objects.get(name="beta")
    assert 10 <= good < 80  # half the visitors, give or take
    assert (early, advanced) == ({"beta": "hold"}, {"beta": "advance"})
    assert (flag.ramp_stage, flag.percentage) == (1, 100)
    assert flag.changes.first().source == ChangeSource.RAMP
    reason = flag.changes.first().reason
    assert reason.startswith("stage 1 held 60 s within limits: 5xx share 0.0000, P95 up to ")
    assert reason.endswith(f" ms over {good} requests")
    assert sample("rollout_ramp_advances_total", "beta") == advances + 1

    # given failing requests in stage 2 (100 %), well inside its hold
    stage_two = first_full_window(flag.ramp_stage_started_at)
    failed = visit(monkeypatch, stage_two + 5, 503, 30)
    with caplog.at_level(logging.ERROR, logger="rollout.services"), django_capture_on_commit_callbacks(execute=True):
        rolled_back = guard_at(monkeypatch, at(stage_two + 10))

    flag = Flag.objects.get(name="beta")
    assert (failed, rolled_back) == (30, {"beta": "roll_back"})
    assert (flag.percentage, flag.ramp_status) == (0, RampStatus.ROLLED_BACK)
    assert flag.changes.first().reason == "5xx share 1.0000 over the limit 0.05 (30 of 30 requests)"
    assert flag.changes.first().changes["percentage"] == {"old": "100.00", "new": "0.00"}
    assert sample("rollout_ramp_rollbacks_total", "beta") == rollbacks + 1
    alerts = [r for r in caplog.records if r.name == "rollout.services" and r.levelno == logging.ERROR]
    assert [(r.getMessage(), r.flag) for r in alerts] == [("rollout ramp rolled back", "beta")]


def test_beat_runs_the_guard():
    assert app.conf.beat_schedule["guard-rollout-ramps"]["task"] == guard_ramps.name


def test_only_in_cohort_requests_are_counted(monkeypatch, make_flag):
    flag = make_flag("beta", ramp=PLAN)
    window = first_full_window(flag.ramp_stage_started_at)

    in_cohort = visit(monkeypatch, window + 5, 200, 60)

    seen = traffic.store().window("beta", flag.ramp_stage_started_at, at(window + 30))
    assert (seen.requests, seen.errors) == (in_cohort, 0)


def test_a_paused_ramp_stays_where_it_is(monkeypatch, make_flag, change_flag):
    flag = make_flag("beta", ramp=PLAN)
    change_flag("beta", ramp={"status": "paused"})

    assert ramp_guard(now=at(flag.ramp_stage_started_at.timestamp() + 3600)) == {}
    assert Flag.objects.get(name="beta").percentage == 50


def test_a_stage_without_enough_traffic_waits(make_flag):
    flag = make_flag("beta", ramp=PLAN)

    assert guard_ramps.apply().get() == {"beta": "hold"}
    assert ramp_guard(now=flag.ramp_stage_started_at + timedelta(hours=1)) == {"beta": "hold"}
    assert Flag.objects.get(name="beta").ramp_stage == 0


def test_the_last_stage_completes(monkeypatch, make_flag):
    flag = make_flag("beta", ramp={**PLAN, "stages": [{"percentage": "100", "hold_seconds": 60}]})
    window = first_full_window(flag.ramp_stage_started_at)
    visit(monkeypatch, window + 1, 200, 12)

    assert ramp_guard(now=at(window + 61)) == {"beta": "complete"}
    assert Flag.objects.get(name="beta").ramp_status == RampStatus.COMPLETED


# A worker process of its own: it counts requests in its buffer and flushes them.
WORKER = """
import sys
import django
django.setup()
from rollout import traffic
requests, errors, at = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for n in range(requests):
    traffic.buffer.record("beta", error=n < errors, latency_ms=3, at=at)
traffic.flush()
"""


def _database_url(database: dict) -> str:
    """The test database as a URL, for a child process's settings."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


# Committed, not inside the test's transaction: without Redis the workers share the counts
# through the database, where another process only sees what was committed.
@pytest.mark.django_db(transaction=True)
def test_counts_flushed_by_separate_worker_processes_add_up(settings):
    now = 1_800_000_000.0
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
    }

    for requests, errors in ((5, 0), (3, 2)):
        subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-c", WORKER, str(requests), str(errors), str(now)], env=env, check=True, timeout=60
        )

    seen = traffic.store().window("beta", at(now - 30), at(now + 30))
    assert (seen.requests, seen.errors) == (8, 2)


def test_counts_from_several_workers_add_up():
    # Two processes' buffers flushing into the one shared store.
    now = 1_800_000_000.0
    first, second = traffic.TrafficBuffer(), traffic.TrafficBuffer()
    for _ in range(3):
        first.record("beta", error=False, latency_ms=3, at=now)
    second.record("beta", error=True, latency_ms=700, at=now + 1)
    second.record("other", error=True, latency_ms=700, at=now)

    traffic.store().add(first.drain())
    traffic.store().add(second.drain())

    seen = traffic.store().window("beta", at(now - 30), at(now + 30))
    assert seen == Traffic(4, 1, (3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0))


def test_a_failed_flush_keeps_the_counts(monkeypatch):
    def refuse(counts):
        raise ConnectionError("store down (test)")

    traffic.buffer.record("beta", error=False, latency_ms=3, at=1_800_000_000)
    monkeypatch.setattr(traffic, "store", lambda: type("Down", (), {"add": staticmethod(refuse)})())

    traffic.flush()

    assert traffic.buffer.drain() == {("beta", 1_800_000_000 - 1_800_000_000 % 60, 0): [1, 0]}
