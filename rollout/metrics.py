"""Rollout metrics (Prometheus, multiprocess-safe). Labels are flag names, which only
operators create, so their number stays small."""

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
