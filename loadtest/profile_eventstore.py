"""Profiles of this service's event store under the benchmark's workloads, written as
text by pyinstrument: where a save, a positioner turn or a load spends its time.

    make bench BENCH_ARGS=--profile      (profiles into var/profiles/, no figures)

Import only after ``django.setup()``.
"""

from pathlib import Path

from pyinstrument import Profiler

from loadtest.bench_ours import OurStore

# (name, what to run), each after one untimed run of the same.
WORKLOADS = (
    ("append-1-event", lambda store, ids: store.append(200, 1, positioner=True)),
    ("append-1-event-append-only", lambda store, ids: store.append(200, 1, positioner=False)),
    ("append-1000-events", lambda store, ids: store.append(3, 1000, positioner=True)),
    ("load-5000-events-replay", lambda store, ids: store.load(ids[5_000], 3, snapshots=False)),
    ("load-5000-events-snapshot", lambda store, ids: store.load(ids[5_000], 200, snapshots=True)),
)


def write_profiles(directory: Path) -> list[Path]:
    """Run every workload under the profiler; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    store = OurStore()
    ids = {5_000: store.build(5_000)[0]}
    written = []
    for name, workload in WORKLOADS:
        workload(store, ids)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        workload(store, ids)
        profiler.stop()
        path = directory / f"{name}.txt"
        path.write_text(profiler.output_text(unicode=False, color=False))
        written.append(path)
    return written
