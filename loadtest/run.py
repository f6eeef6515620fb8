"""``make loadtest`` / ``make saturation`` / ``make soak``: the production stack on
loopback under the locust scenario (loadtest/locustfile.py), measured and written up.

It starts what production runs, each with its production configuration: gunicorn with
config/gunicorn.conf.py (uvicorn workers), a Celery worker and the beat; on a Postgres
database of its own (dropped and created afresh; the name must end in ``_loadtest``) and a
Redis database of its own (emptied). It seeds a company's books (``seed_demo``: a chart,
journal entries, a few hundred invoices and payments), issues the tokens, runs locust
headless, samples the memory (RSS) of every process it started and the machine's load
average, scrapes the service's metrics port for the cache hit rate, prints a pass/fail
table against the targets and writes ``docs/performance/loadtest-<kind>.md`` with plots.
Every process it starts is stopped before it returns; everything listens on 127.0.0.1.

Kinds:
- ``loadtest``: USERS users (default 100) with 0.5-1.5 s think time for DURATION.
- ``saturation``: no think time, steps of more and more users; the highest request rate
  whose P95 stays under 300 ms.
- ``soak``: as ``loadtest`` for DURATION (default 30 min); RSS must stay flat.
"""

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from loadtest import cpu
from loadtest.bench_database import recreate_database
from loadtest.drills.server import HOST, ROOT, Gunicorn, children_of, free_port, manage, service_environment

OUT = ROOT / "docs" / "performance"
SEED_MONTHS = 48  # about 260 invoices, 760 journal entries
TOKENS_PER_ROLE = 20

TARGETS = {"p95_ms": 50.0, "p99_ms": 100.0, "error_rate": 0.0, "cache_hit_rate": 0.90}
SATURATION_P95_MS = 300.0
SOAK_RSS_BAND = 0.10


def say(*parts: object, flush: bool = True) -> None:
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    if flush:
        sys.stdout.flush()


def parse_duration(text: str) -> int:
    """'90s', '2m', '1h30m' or plain seconds → seconds."""
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 2m, 1h)")
    hours, minutes, seconds = (int(g or 0) for g in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


# --- The stack -------------------------------------------------------------------------


@dataclass
class Celery:
    """The worker and the beat, as the production manifest starts them."""

    environment: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="loadtest-celery-")))

    def start(self) -> "Celery":
        environment = {**self.environment, "CELERY_METRICS_PORT": str(free_port())}
        commands = {
            "celery worker": ["worker", "--loglevel=WARNING"],
            "celery beat": ["beat", "--loglevel=WARNING", f"--schedule={self.workdir / 'celerybeat-schedule'}"],
        }
        for role, args in commands.items():
            log = (self.workdir / f"{role.replace(' ', '-')}.log").open("w")
            self.processes[role] = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "celery", "--app=config", *args],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


@dataclass
class Sampler:
    """Every ``period`` seconds: the RSS of every process of the stack, by role, and the
    machine's load average."""

    gunicorn: Gunicorn
    celery: Celery
    period: float = 5.0
    samples: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def processes(self) -> dict[int, str]:
        found = {self.gunicorn.process.pid: "gunicorn master"}
        found.update({pid: "gunicorn worker" for pid in self.gunicorn.worker_pids()})
        for role, process in self.celery.processes.items():
            found[process.pid] = role
            found.update({pid: f"{role} child" for pid in children_of(process.pid)})
        return found

    def sample(self) -> None:
        rss = {}
        for pid, role in self.processes().items():
            value = rss_bytes(pid)
            if value is not None:
                rss[f"{role} {pid}"] = value
        self.samples.append({"t": time.time(), "rss": rss, "load": load_average()})

    def start(self) -> "Sampler":
        def loop() -> None:
            while not self._stop.wait(self.period):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.period + 5)
        self.sample()


def scrape(metrics_port: int) -> dict[str, float]:
    """Counters of the metrics port, summed over label sets, by sample name; the aggregate
    loads also by source."""
    text = httpx.get(f"http://{HOST}:{metrics_port}/metrics", timeout=30).text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            if name in ("django_cache_get_total", "django_cache_get_hits_total", "django_cache_get_misses_total"):
                totals[name] = totals.get(name, 0.0) + sample.value
            elif name == "finance_aggregate_load_seconds_count":
                key = f"aggregate loads from {sample.labels.get('source')}"
                totals[key] = totals.get(key, 0.0) + sample.value
            elif name == "django_http_requests_total_by_method_total":
                totals["requests served"] = totals.get("requests served", 0.0) + sample.value
            elif name == "finance_report_cache_requests_total":
                key = {"hit": "report hits", "miss": "report misses"}[sample.labels["result"]]
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals


_ISSUE_TOKENS = """
from django.contrib.auth.models import Group, User
from finance.api.auth import issue_token
for role in ("accountant", "viewer"):
    group = Group.objects.get_or_create(name=role)[0]
    for n in range({count}):
        user = User.objects.get_or_create(username=f"load-{{role}}-{{n}}")[0]
        user.groups.add(group)
        print(f"{{role}}={{issue_token(user)}}")
"""


def seed(environment: dict[str, str]) -> dict[str, str]:
    started = time.monotonic()
    manage(environment, "migrate", "--noinput")
    say(manage(environment, "seed_demo", "--months", str(SEED_MONTHS)).strip().split(";")[0], flush=True)
    # Twenty people of each role: requests are throttled per user (API_THROTTLE_RATE).
    # One process issues them all (a manage.py start-up each would take a minute).
    printed = manage(environment, "shell", "-c", _ISSUE_TOKENS.format(count=TOKENS_PER_ROLE))
    tokens: dict[str, list[str]] = {}
    for line in printed.splitlines():
        role, _, token = line.strip().partition("=")
        if role in ("accountant", "viewer") and token:
            tokens.setdefault(role, []).append(token)
    tokens = {
        "LOADTEST_ACCOUNTANT_TOKEN": ",".join(tokens["accountant"]),
        "LOADTEST_VIEWER_TOKEN": ",".join(tokens["viewer"]),
    }
    say(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
    return tokens


# --- locust ----------------------------------------------------------------------------


def run_locust(
    base_url: str, tokens: dict[str, str], prefix: Path, *, users: int, seconds: int, think: bool, spawn_rate: float
) -> dict:
    """One headless locust run; the aggregated row of its stats and every endpoint's row."""
    environment = {**os.environ, **tokens, "LOADTEST_THINK": "1" if think else "0"}
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile=loadtest/locustfile.py",
        "--headless",
        f"--host={base_url}",
        f"--users={users}",
        f"--spawn-rate={spawn_rate}",
        f"--run-time={seconds}s",
        f"--csv={prefix}",
        "--csv-full-history",
        "--reset-stats",
        "--only-summary",
        "--stop-timeout=10",
        "--exit-code-on-error=0",
        "--loglevel=WARNING",
    ]
    log = prefix.with_suffix(".log")
    with log.open("w") as out:
        subprocess.run(  # noqa: S603 - fixed argv
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 180, check=True
        )
    with Path(f"{prefix}_stats.csv").open() as stats_file:
        rows = list(csv.DictReader(stats_file))
    resent = sum(line.count("Retrying (Retry(") for line in log.read_text().splitlines())
    return {"total": next(r for r in rows if r["Name"] == "Aggregated"), "endpoints": rows[:-1], "resent": resent}


def summary(total: dict) -> dict[str, float]:
    requests = int(total["Request Count"])
    return {
        "requests": requests,
        "failures": int(total["Failure Count"]),
        "error_rate": int(total["Failure Count"]) / requests if requests else 1.0,
        "rps": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
    }


def read_history(prefix: Path) -> list[dict]:
    """The aggregated rows of the per-second history: time, users, rps, percentiles."""
    with Path(f"{prefix}_stats_history.csv").open() as history:
        rows = [row for row in csv.DictReader(history) if row["Name"] == "Aggregated"]
    # From the reset of the statistics (once every user runs) on.
    counts = [int(row["Total Request Count"]) for row in rows]
    reset = max((i for i in range(1, len(counts)) if counts[i] < counts[i - 1]), default=0)
    return [
        {
            "t": int(row["Timestamp"]),
            "users": int(row["User Count"]),
            "rps": float(row["Requests/s"]),
            "p50": float(row["50%"]) if row["50%"] != "N/A" else None,
            "p95": float(row["95%"]) if row["95%"] != "N/A" else None,
            "p99": float(row["99%"]) if row["99%"] != "N/A" else None,
        }
        for row in rows[reset:]
    ]


# --- Plots ----------------------------------------------------------------------------


def plot_run(history: list[dict], path_latency: Path, path_rps: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    start = history[0]["t"] if history else 0
    t = [(row["t"] - start) / 60 for row in history]
    fig, ax = plt.subplots(figsize=(9, 4))
    for key, label in (("p50", "P50"), ("p95", "P95"), ("p99", "P99")):
        ax.plot(t, [row[key] for row in history], label=label, linewidth=1)
    ax.set_xlabel("minutes")
    ax.set_ylabel("response time, ms (10 s window)")
    ax.set_title(f"{title}: latency percentiles")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path_latency, dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(t, [row["rps"] for row in history], label="requests/s", color="tab:green", linewidth=1)
    ax.set_xlabel("minutes")
    ax.set_ylabel("requests/s")
    users = ax.twinx()
    users.plot(t, [row["users"] for row in history], label="users", color="tab:gray", linestyle="--", linewidth=1)
    users.set_ylabel("users")
    users.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{title}: throughput")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path_rps, dpi=90)
    plt.close(fig)


def rss_by_role(samples: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """Per role, the mean RSS (MiB) of its processes at each sample."""
    series: dict[str, list[tuple[float, float]]] = {}
    for sample in samples:
        by_role: dict[str, list[int]] = {}
        for key, value in sample["rss"].items():
            by_role.setdefault(key.rsplit(" ", 1)[0], []).append(value)
        for role, values in by_role.items():
            series.setdefault(role, []).append((sample["t"], sum(values) / len(values) / 2**20))
    return series


def plot_rss(samples: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    start = samples[0]["t"]
    fig, ax = plt.subplots(figsize=(9, 4))
    for role, points in sorted(rss_by_role(samples).items()):
        ax.plot([(t - start) / 60 for t, _ in points], [v for _, v in points], label=role, linewidth=1)
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS per process, MiB (mean over the role)")
    ax.set_title(f"{title}: memory")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def rss_drift(samples: list[dict], skip_seconds: float) -> dict[str, tuple[float, float, float]]:
    """Per role: mean RSS (MiB) over the first and the last fifth of the run after the
    warm-up, and the change between them (a fraction)."""
    start = samples[0]["t"] + skip_seconds
    out = {}
    for role, points in rss_by_role(samples).items():
        kept = [v for t, v in points if t >= start]
        if len(kept) < 5:
            continue
        fifth = max(1, len(kept) // 5)
        first, last = sum(kept[:fifth]) / fifth, sum(kept[-fifth:]) / fifth
        out[role] = (first, last, (last - first) / first)
    return out


# --- Report ----------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def postgres_version(database_url: str) -> str:
    connection = psycopg.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def percent(value: float) -> str:
    return f"{value * 100:.2f} %"


def endpoint_table(endpoints: list[dict]) -> list[str]:
    lines = [
        "| endpoint | requests | failures | P50 ms | P95 ms | P99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(endpoints, key=lambda r: -int(r["Request Count"])):
        lines.append(
            f"| {row['Type']} {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
            f"{row['50%']} | {row['95%']} | {row['99%']} |"
        )
    return lines


def load_line(samples: list[dict]) -> str:
    loads = [s["load"][0] for s in samples]
    return (
        f"load average (1 min) during the run: min {min(loads):.2f}, median "
        f"{sorted(loads)[len(loads) // 2]:.2f}, max {max(loads):.2f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("loadtest", "saturation", "soak"))
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=parse_duration, default=None, help="e.g. 2m; default 2m, soak 30m")
    parser.add_argument("--steps", default="5,10,20,30,40,60", help="saturation: users per step")
    parser.add_argument("--step-duration", type=parse_duration, default=40)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/finance_loadtest"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/6"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--command", default="", help="the command to print in the report")
    args = parser.parse_args()
    seconds = args.duration or (1800 if args.kind == "soak" else 120)
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"loadtest-{args.kind}-"))
    started_at = datetime.now(UTC)
    uptime_before = subprocess.run(["/usr/bin/uptime"], capture_output=True, text=True, check=False).stdout.strip()
    say(f"{args.kind}: {uptime_before}", flush=True)

    recreate_database(args.database_url, suffix="_loadtest")
    environment = service_environment(args.database_url, args.redis_url)
    tokens = seed(environment)
    gunicorn = Gunicorn(environment, workers=args.workers, graceful_timeout=10)
    celery = Celery(environment)
    sampler = None
    try:
        gunicorn.start()
        celery.start()
        sampler = Sampler(gunicorn, celery, period=5.0 if seconds <= 600 else 15.0).start()
        parts = {
            "service (gunicorn)": [gunicorn.process.pid],
            "Celery worker and beat": [process.pid for process in celery.processes.values()],
        }
        cpu_before = cpu.snapshot(parts)
        before = scrape(gunicorn.metrics_port)
        if args.kind == "saturation":
            steps = []
            for users in (int(u) for u in args.steps.split(",")):
                prefix = scratch / f"step-{users}"
                result = run_locust(
                    gunicorn.base_url,
                    tokens,
                    prefix,
                    users=users,
                    seconds=args.step_duration,
                    think=False,
                    spawn_rate=users,
                )
                figures = summary(result["total"])
                steps.append({"users": users, **figures})
                say(
                    f"  {users:4d} users: {figures['rps']:7.1f} req/s, P95 {figures['p95_ms']:.0f} ms, "
                    f"P99 {figures['p99_ms']:.0f} ms, errors {percent(figures['error_rate'])}",
                    flush=True,
                )
            run = {"steps": steps}
        else:
            prefix = scratch / args.kind
            result = run_locust(
                gunicorn.base_url,
                tokens,
                prefix,
                users=args.users,
                seconds=seconds,
                think=True,
                spawn_rate=max(1.0, args.users / 10),
            )
            run = {
                "figures": {**summary(result["total"]), "resent": result["resent"]},
                "endpoints": result["endpoints"],
                "history": read_history(prefix),
            }
        after = scrape(gunicorn.metrics_port)
        cpu_after = cpu.snapshot(parts)
    finally:
        if sampler:
            sampler.stop()
        celery.stop()
        gunicorn.stop()
    uptime_after = subprocess.run(["/usr/bin/uptime"], capture_output=True, text=True, check=False).stdout.strip()
    delta = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}
    gets = delta.get("django_cache_get_total", 0.0)
    hit_rate = delta.get("django_cache_get_hits_total", 0.0) / gets if gets else 0.0
    report = {
        "kind": args.kind,
        "command": args.command or f"python -m loadtest.run {' '.join(sys.argv[1:])}",
        "date": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "postgres": postgres_version(args.database_url),
        "uptime": [uptime_before, uptime_after],
        "seconds": seconds,
        "users": args.users,
        "workers": args.workers,
        "cache": {
            "gets": gets,
            "hit_rate": hit_rate,
            **{k: v for k, v in delta.items() if k.startswith(("aggregate", "report"))},
        },
        "samples": sampler.samples if sampler else [],
        "requests_served": delta.get("requests served", 0.0),
        "cpu_ms_per_request": cpu.per_request(cpu_before, cpu_after, delta.get("requests served", 0.0)),
        **run,
    }
    write_report(report, args.out)


def write_report(report: dict, out: Path) -> None:
    kind = report["kind"]
    title = {"loadtest": "Load test", "saturation": "Saturation", "soak": "Soak"}[kind]
    lines = [
        f"# {title}: {report['date']}",
        "",
        f"- Command: `{report['command']}`",
        f"- Machine: {report['machine']}; PostgreSQL {report['postgres']} and Redis on the same machine.",
        f"- Stack: gunicorn ({report['workers']} uvicorn workers, config/gunicorn.conf.py), a Celery worker and "
        "the beat, production settings (DEBUG off), all on 127.0.0.1; locust on the same machine.",
        f"- Shared machine: `uptime` before: `{report['uptime'][0]}`; after: `{report['uptime'][1]}`; "
        + load_line(report["samples"])
        + ".",
        f"- Data: `seed_demo --months {SEED_MONTHS}` before the run, plus what the run writes.",
        "",
    ]
    checks: list[tuple[str, str, bool]] = []
    cache = report["cache"]
    if kind == "saturation":
        steps = report["steps"]
        under = [s for s in steps if s["p95_ms"] < SATURATION_P95_MS and s["error_rate"] == 0]
        best = max(under, key=lambda s: s["rps"]) if under else None
        lines += [
            "No think time: each user sends its next request as soon as the last one is answered. "
            f"Steps of {', '.join(str(s['users']) for s in steps)} users, "
            f"statistics reset once all users of a step are running.",
            "",
            "| users | requests/s | P50 ms | P95 ms | P99 ms | errors |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {s['users']} | {s['rps']:.1f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | "
            f"{percent(s['error_rate'])} |"
            for s in steps
        ]
        lines.append("")
        if best:
            lines.append(
                f"**Highest rate at P95 < {SATURATION_P95_MS:.0f} ms: {best['rps']:.1f} requests/s** "
                f"({best['users']} users, P95 {best['p95_ms']:.0f} ms)."
            )
        else:
            lines.append(f"No step kept P95 under {SATURATION_P95_MS:.0f} ms without errors.")
        plot_saturation(steps, out / f"loadtest-{kind}.png")
        lines += ["", f"![requests/s and P95 by users](loadtest-{kind}.png)", ""]
        checks.append(
            ("highest rate at P95 < 300 ms", f"{best['rps']:.1f} req/s" if best else "none", best is not None)
        )
    else:
        f = report["figures"]
        checks += [
            ("P95 < 50 ms", f"{f['p95_ms']:.0f} ms", f["p95_ms"] < TARGETS["p95_ms"]),
            ("P99 < 100 ms", f"{f['p99_ms']:.0f} ms", f["p99_ms"] < TARGETS["p99_ms"]),
            ("errors 0.00 %", percent(f["error_rate"]), f["failures"] == 0),
            ("cache hit rate >= 90 %", percent(cache["hit_rate"]), cache["hit_rate"] >= TARGETS["cache_hit_rate"]),
        ]
        lines += [
            f"{report['users']} users, 0.5-1.5 s think time, {report['seconds'] // 60} min "
            f"{report['seconds'] % 60} s after the ramp-up (statistics reset once every user runs): "
            f"{f['requests']} requests, {f['rps']:.1f} requests/s, P50 {f['p50_ms']:.0f} ms; "
            f"{f['resent']} sent a second time after their connection was reset (same Idempotency-Key).",
            "",
        ]
        plot_run(report["history"], out / f"loadtest-{kind}-latency.png", out / f"loadtest-{kind}-rps.png", title)
        if kind == "soak":
            drift = rss_drift(report["samples"], skip_seconds=120)
            for role, (first, last, change) in sorted(drift.items()):
                checks.append(
                    (
                        f"RSS of {role} flat within ±10 %",
                        f"{first:.0f} → {last:.0f} MiB ({change * 100:+.1f} %)",
                        abs(change) <= SOAK_RSS_BAND,
                    )
                )
            plot_rss(report["samples"], out / f"loadtest-{kind}-rss.png", title)
    lines += ["| target | measured | |", "|---|---:|---|"]
    lines += [f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in checks]
    lines += [
        "",
        f"Cache: {cache['gets']:.0f} gets over the run, hit rate {percent(cache['hit_rate'])} "
        "(django_cache_get_hits_total / django_cache_get_total from the metrics port, counted over the run). "
        "Aggregate loads: "
        + ", ".join(
            f"{k.removeprefix('aggregate loads from ')} {v:.0f}"
            for k, v in sorted(cache.items())
            if k.startswith("aggregate")
        )
        + ". Reports: "
        + f"{cache.get('report hits', 0):.0f} answered from the cache, {cache.get('report misses', 0):.0f} computed.",
        "",
    ]
    lines += cpu_table(report)
    if kind != "saturation":
        lines += [
            f"![latency percentiles](loadtest-{kind}-latency.png)",
            "",
            f"![requests per second](loadtest-{kind}-rps.png)",
            "",
        ]
        if kind == "soak":
            lines += [f"![memory per process](loadtest-{kind}-rss.png)", ""]
        lines += ["Per endpoint:", ""] + endpoint_table(report["endpoints"]) + [""]
    (out / f"loadtest-{kind}.md").write_text("\n".join(lines))
    write_samples(report["samples"], out / f"loadtest-{kind}-samples.csv")
    (out / f"loadtest-{kind}.json").write_text(
        json.dumps(
            {k: v for k, v in report.items() if k not in ("samples", "history", "endpoints")}, indent=1, default=str
        )
    )
    say()
    say(f"{'target':<40} {'measured':>28}  verdict")
    for name, value, ok in checks:
        say(f"{name:<40} {value:>28}  {'PASS' if ok else 'FAIL'}")
    say(f"\nreport: {out / f'loadtest-{kind}.md'}")


def cpu_table(report: dict) -> list[str]:
    """Where the CPU went, per request the service served over the whole run."""
    spent = report["cpu_ms_per_request"]
    if not spent:
        return []
    machine = spent["machine"]
    cores = os.cpu_count() or 1
    lines = [
        f"CPU per request, over all {report['requests_served']:.0f} requests the service served during the run "
        "(ramp-up included; `django_http_requests_total_by_method` from the metrics port; CPU time from /proc, "
        "loadtest/cpu.py):",
        "",
        "| part | CPU ms per request | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.1f} | {ms / machine * 100:.0f} % |" for name, ms in spent.items() if name != "machine"]
    lines += [
        f"| the whole machine | {machine:.1f} | 100 % |",
        "",
        f"At {machine:.1f} CPU ms per request, {cores} cores serve at most {cores * 1000 / machine:.0f} "
        "requests a second.",
        "",
    ]
    return lines


def write_samples(samples: list[dict], path: Path) -> None:
    """Every sample: seconds from the start, load average (1 min), then RSS in MiB of each
    process (its role and pid as the column)."""
    if not samples:
        return
    columns = sorted({key for sample in samples for key in sample["rss"]})
    start = samples[0]["t"]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seconds", "load1", *columns])
        for sample in samples:
            writer.writerow(
                [
                    round(sample["t"] - start),
                    sample["load"][0],
                    *(round(sample["rss"][c] / 2**20, 1) if c in sample["rss"] else "" for c in columns),
                ]
            )


def plot_saturation(steps: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    users = [s["users"] for s in steps]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(users, [s["rps"] for s in steps], marker="o", color="tab:green", label="requests/s")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("users (no think time)")
    ax.set_ylabel("requests/s")
    latency = ax.twinx()
    for key, label, style in (("p95_ms", "P95", "-"), ("p99_ms", "P99", ":")):
        latency.plot(users, [s[key] for s in steps], marker="x", color="tab:red", linestyle=style, label=label)
    latency.axhline(SATURATION_P95_MS, color="tab:red", alpha=0.3)
    latency.set_ylabel("ms")
    ax.set_title("Saturation: throughput and latency by concurrency")
    ax.grid(alpha=0.3)
    fig.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
