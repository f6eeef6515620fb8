"""Rollout metrics (Prometheus, multiprocess-safe). Labels are flag names, which only
operators create, so their number stays small."""

import threading
from collections import Counter as Tally

from prometheus_client import Counter, Gauge

DECISIONS = Counter(
    "rollout_decisions_total", "Flag decisions made for requests, by flag and cohort (in/out).", ["flag", "cohort"]
)
PERCENTAGE = Gauge(
    "rollout_flag_percentage",
    "Share of subjects a flag is on for by percentage (0 while its kill switch is off).",
    ["flag"],
    multiprocess_mode="mostrecent",
)
RAMP_ADVANCES = Counter("rollout_ramp_advances_total", "Ramp stages advanced by the guard.", ["flag"])
RAMP_COMPLETIONS = Counter(
    "rollout_ramp_completions_total", "Ramps that held their last stage within limits.", ["flag"]
)
RAMP_ROLLBACKS = Counter(
    "rollout_ramp_rollbacks_total", "Ramps rolled back to 0 % because the cohort broke a limit.", ["flag"]
)
REFRESH_FAILURES = Counter(
    "rollout_refresh_failures_total", "Checks of the flag version or reloads that failed (the last good copy served)."
)
TRAFFIC_FLUSH_FAILURES = Counter(
    "rollout_traffic_flush_failures_total", "Flushes of ramp traffic counts that failed (kept for the next one)."
)


def start_series(flag: str) -> None:
    """Create the flag's counters at 0, so rates, increases and the rollback alert see a
    series from the start rather than only after the first event."""
    for cohort in ("in", "out"):
        DECISIONS.labels(flag=flag, cohort=cohort)
    RAMP_ADVANCES.labels(flag=flag)
    RAMP_COMPLETIONS.labels(flag=flag)
    RAMP_ROLLBACKS.labels(flag=flag)


class DecisionTally:
    """Requests counted in memory by the set of flags that were on for them, and added to
    ``rollout_decisions_total`` at the registry's once-a-second tick: one count per
    request instead of a metric increment per flag."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Tally[str] = Tally()

    def record(self, active: str) -> None:
        """Count one request whose active flags are ``active`` (the X-Rollout value)."""
        with self._lock:
            # get() rather than Counter's __missing__: most first visits bring a new key.
            self._counts[active] = self._counts.get(active, 0) + 1

    def flush(self, flags) -> None:
        """Add the counts to the metric; ``flags`` are the names decided for them."""
        with self._lock:
            counts, self._counts = self._counts, Tally()
        if not counts:
            return
        requests = sum(counts.values())
        inside: Tally[str] = Tally()
        for active, count in counts.items():
            for name in active.split(",") if active else ():
                inside[name] += count
        for name in flags:
            if inside[name]:
                DECISIONS.labels(flag=name, cohort="in").inc(inside[name])
            if requests - inside[name]:
                DECISIONS.labels(flag=name, cohort="out").inc(requests - inside[name])


decision_tally = DecisionTally()
