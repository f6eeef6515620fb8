"""Domain metrics of the event store and the books (Prometheus, multiprocess-safe)."""

from prometheus_client import Counter, Gauge, Histogram

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
SNAPSHOT_LAG = Gauge(
    "finance_snapshot_lag_events",
    "Most events any stream has past its last snapshot.",
    multiprocess_mode="max",
)
SNAPSHOTS_DUE = Gauge("finance_snapshots_due", "Streams due for a snapshot at the last sweep.", multiprocess_mode="max")
CONCURRENCY_CONFLICTS = Counter(
    "finance_concurrency_conflicts_total", "Appends refused because a stream had moved on.", ["aggregate"]
)
IDEMPOTENT_REPLAYS = Counter("finance_idempotent_replays_total", "Requests answered from a stored idempotent response.")
PROJECTION_DRIFT = Gauge(
    "finance_projection_drift",
    "Rows that differ between live read models and a rebuild at the last verification (0 = in step).",
    multiprocess_mode="max",
)
PROJECTION_VERIFIED_AT = Gauge(
    "finance_projection_verified_timestamp_seconds",
    "When the read models were last verified against the event log.",
    multiprocess_mode="max",
)
EVENT_LOG_INTACT = Gauge(
    "finance_event_log_intact",
    "1 when the last hash-chain verification passed, 0 when it found a bad event.",
    multiprocess_mode="min",
)


def observe_load(aggregate: str, source: str, seconds: float, replayed: int) -> None:
    AGGREGATE_LOAD_SECONDS.labels(aggregate=aggregate, source=source).observe(seconds)
    EVENTS_REPLAYED.labels(aggregate=aggregate).observe(replayed)
