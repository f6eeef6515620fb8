"""Event-store benchmark: this service's store vs raw psycopg vs the ``eventsourcing``
library, in one run on the same Postgres. ``make bench`` runs it and writes the figures
into docs/performance.md.

    python -m loadtest.bench_eventstore [--quick] [--no-write] [--only PART] [--profile]

Environment: ``BENCH_DATABASE_URL`` (a Postgres database whose name ends in ``_bench``;
it is dropped and created afresh), ``BENCH_PEER_PYTHON`` (the Python of .venv-bench).
Every timed operation runs warm first; systems take turns in rounds so that noise from
other work on the machine falls on all of them alike.
"""

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from loadtest import bench_report
from loadtest.bench_database import BenchDatabase
from loadtest.bench_report import OURS, OURS_APPEND_ONLY, PEER, RAW, Figure
from loadtest.peer_client import REPO_ROOT, PeerProcess
from loadtest.private_redis import private_redis

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finance_bench"
DEFAULT_PEER_PYTHON = str(REPO_ROOT / ".venv-bench" / "bin" / "python")
SIZES = [50, 500, 5_000, 50_000]
PARTS = {"appends", "loads"}


@dataclass(frozen=True)
class Plan:
    rounds: int
    single_appends: int  # per system, all rounds together
    batch_appends: int
    snapshot_loads: int
    replay_loads: dict[int, int]  # stream length -> loads per system
    warmup: int


FULL = Plan(
    rounds=20,
    single_appends=1000,
    batch_appends=20,
    snapshot_loads=100,
    replay_loads={50: 100, 500: 50, 5_000: 15, 50_000: 5},
    warmup=3,
)
QUICK = Plan(
    rounds=2,
    single_appends=40,
    batch_appends=2,
    snapshot_loads=6,
    replay_loads={50: 6, 500: 4, 5_000: 2, 50_000: 2},
    warmup=1,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - progress of a command-line run


def take_turns(runners: dict, total: int, rounds: int, warmup: int) -> dict[str, Figure]:
    """Each runner(count=n) returns n timings; they run in ``rounds`` rounds, starting with a
    different runner each round, after ``warmup`` untimed calls each."""
    for runner in runners.values():
        runner(count=warmup)
    samples: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    per_round = max(1, total // rounds)
    round_number = 0
    while any(len(taken) < total for taken in samples.values()):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            wanted = min(per_round, total - len(samples[name]))
            if wanted > 0:
                samples[name] += runners[name](count=wanted)
        round_number += 1
    return {name: Figure(tuple(taken)) for name, taken in samples.items()}


def environment(database: BenchDatabase, descriptions: dict, plan: Plan) -> dict:
    import django

    connection = database.connect(autocommit=True)
    with connection.cursor() as cursor:
        settings = {}
        for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    connection.close()
    modes = {f"{name}: synchronous_commit={d['synchronous_commit']}" for name, d in descriptions.items()}
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make bench",
        "machine": _machine(),
        "postgres": f"{settings['server_version'].split()[0]} (shared_buffers {settings['shared_buffers']},"
        f" fsync={settings['fsync']}, wal_sync_method={settings['wal_sync_method']})",
        "durability": "; ".join(sorted(modes)),
        "python": platform.python_version(),
        "drivers": f"Django {django.get_version()} on psycopg {descriptions[OURS]['psycopg']};"
        f" eventsourcing {descriptions[PEER]['eventsourcing']} on psycopg {descriptions[PEER]['psycopg']}",
        "rounds": f"{plan.rounds} rounds, warm-up of {plan.warmup} per system and line",
    }


def _machine() -> str:
    model = ""
    memory = ""
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        model = models[0] if models else ""
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores{f' ({model})' if model else ''}{memory}, {platform.system()} {platform.release()}"


def run(plan: Plan, database: BenchDatabase, peer_python: str, parts: set[str]) -> str:
    """Run the lines of ``parts`` ("appends", "loads"); return the Markdown of figures."""
    from loadtest.bench_ours import OurStore
    from loadtest.bench_raw import RawPsycopg

    ours, raw, peer = OurStore(), RawPsycopg(database), PeerProcess(peer_python, database)
    try:
        descriptions = {OURS: ours.describe(), RAW: raw.describe(), PEER: peer.call("describe")}
        appends = _run_appends(plan, ours, raw, peer) if "appends" in parts else {}
        loads = _run_loads(plan, ours, raw, peer) if "loads" in parts else {}
        return bench_report.render(
            appends=appends, loads=loads, environment=environment(database, descriptions, plan), sizes=SIZES
        )
    finally:
        peer.close()
        raw.close()


def _run_appends(plan: Plan, ours, raw, peer: PeerProcess) -> dict:
    figures = {}
    for size, total in ((1, plan.single_appends), (1_000, plan.batch_appends)):
        log(f"append: {total} saves of {size:,} event(s) per system")
        runners = {
            RAW: partial(raw.append, size=size),
            OURS: partial(ours.append, size=size, positioner=True),
            OURS_APPEND_ONLY: partial(ours.append, size=size, positioner=False),
            PEER: partial(peer.call, "append", size=size),
        }
        taken = take_turns(runners, total, plan.rounds, plan.warmup if size == 1 else 1)
        figures.update({(size, system): figure for system, figure in taken.items()})
    return figures


def _run_loads(plan: Plan, ours, raw, peer: PeerProcess) -> dict:
    figures = {}
    for events in SIZES:
        log(f"load: building streams of {events:,} events")
        our_id, our_stream = ours.build(events)
        peer_id = peer.call("build", events=events)["id"]
        for snapshots in (True, False):
            total = plan.snapshot_loads if snapshots else plan.replay_loads[events]
            log(f"load: {total} loads of {events:,} events {'with' if snapshots else 'without'} snapshots")
            runners = {
                RAW: partial(raw.load, our_stream, snapshots=snapshots),
                OURS: partial(ours.load, our_id, snapshots=snapshots),
                PEER: partial(peer.call, "load", stream=peer_id, snapshots=snapshots),
            }
            warmup = 1 if events >= 50_000 and not snapshots else plan.warmup
            taken = take_turns(runners, total, min(plan.rounds, total), warmup)
            figures.update({(events, snapshots, system): figure for system, figure in taken.items()})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few samples per line, to try the benchmark out")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave docs/performance.md alone")
    parser.add_argument(
        "--only", choices=sorted(PARTS), help="run one part (implies --no-write: the document gets whole runs only)"
    )
    parser.add_argument("--profile", action="store_true", help="write pyinstrument profiles of this store instead")
    args = parser.parse_args(argv)

    database = BenchDatabase.from_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL)
    peer_python = os.environ.get("BENCH_PEER_PYTHON") or DEFAULT_PEER_PYTHON
    log(f"bench database {database.name}: dropping and creating it")
    database.recreate()
    with private_redis() as redis_url:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": database.url,
                "REDIS_URL": redis_url,
                "DEBUG": "0",
                "LOG_LEVEL": "WARNING",
                # The store itself is measured: loads must not come from the cache.
                "FINANCE_CACHE": "false",
            }
        )
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        if args.profile:
            from loadtest.profile_eventstore import write_profiles

            for path in write_profiles(REPO_ROOT / "var" / "profiles"):
                log(f"profile written to {path.relative_to(REPO_ROOT)}")
            return 0
        block = run(QUICK if args.quick else FULL, database, peer_python, {args.only} if args.only else PARTS)

    print(block)  # noqa: T201 - the figures are this command's output
    if not (args.quick or args.no_write or args.only):
        target = REPO_ROOT / "docs" / "performance.md"
        bench_report.write_into(target, block)
        log(f"figures written to {target.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
