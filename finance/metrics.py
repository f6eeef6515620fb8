"""Domain metrics of the event store and the books (Prometheus, multiprocess-safe)."""

import time

from prometheus_client import Counter, Histogram

LOAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 1.0, 2.5, 5.0)
REPLAY_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 1000, 5000, 50000)

EVENTS_APPENDED = Counter("finance_events_appended_total", "Events appended to the event store.", ["aggregate"])
AGGREGATE_LOAD_SECONDS = Histogram(
    "finance_aggregate_load_seconds",
    "Time to load an aggregate, by where its state came from.",
    ["aggregate", "source"],
    buckets=LOAD_BUCKETS,
)
EVENTS_REPLAYED = Histogram(
    "finance_events_replayed", "Events applied when loading an aggregate.", ["aggregate"], buckets=REPLAY_BUCKETS
)
SNAPSHOTS_WRITTEN = Counter("finance_snapshots_written_total", "Snapshots written.", ["aggregate"])
# Snapshot lag, streams due and the dependency probes are measured when /metrics is
# scraped (config/service_metrics.py), so they stay true even when the beat is down.
CONCURRENCY_CONFLICTS = Counter(
    "finance_concurrency_conflicts_total", "Appends refused because a stream had moved on.", ["aggregate"]
)
REPORT_CACHE = Counter(
    "finance_report_cache_requests_total", "Report requests, by whether the cache answered.", ["report", "result"]
)
IDEMPOTENT_REPLAYS = Counter("finance_idempotent_replays_total", "Requests answered from a stored idempotent response.")

# Verification runs in short-lived processes (a CronJob, an operator's shell), whose own
# metrics nobody scrapes: their results are kept in the cache and exposed at scrape time.
_VERIFICATION_KEY = "finance:verification:{kind}"
EVENT_LOG = "event_log"
PROJECTIONS = "projections"


def record_verification(kind: str, *, differences: int) -> None:
    """Remember the outcome of a verification (``EVENT_LOG``: bad events found;
    ``PROJECTIONS``: rows that differ from a rebuild) for the metrics endpoint."""
    from django.core.cache import cache

    cache.set(_VERIFICATION_KEY.format(kind=kind), {"differences": differences, "at": time.time()}, timeout=None)


def last_verification(kind: str) -> dict | None:
    """``{"differences": int, "at": unix seconds}`` of the newest verification, or None."""
    from django.core.cache import cache

    return cache.get(_VERIFICATION_KEY.format(kind=kind))


def initialise_series(aggregate_types) -> None:
    """Create the per-aggregate counters at zero, so that rates and ratios read 0 rather
    than "no data" until the first append, conflict or snapshot of a type."""
    for aggregate in aggregate_types:
        EVENTS_APPENDED.labels(aggregate=aggregate)
        CONCURRENCY_CONFLICTS.labels(aggregate=aggregate)
        SNAPSHOTS_WRITTEN.labels(aggregate=aggregate)


def observe_load(aggregate: str, source: str, seconds: float, replayed: int) -> None:
    AGGREGATE_LOAD_SECONDS.labels(aggregate=aggregate, source=source).observe(seconds)
    EVENTS_REPLAYED.labels(aggregate=aggregate).observe(replayed)
