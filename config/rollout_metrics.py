"""Request outcomes by rollout flag and cohort, so a flag's new behaviour can be compared
with the old one while it ramps (error rate and latency in and out of the cohort).

The rollout middleware calls ``observe_request`` once per flag that gated the request.
"""

from prometheus_client import Counter, Histogram

# The same edges as the HTTP latency histogram, so both answer "share under 300 ms".
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "rollout_requests_total",
    "Requests a flag was evaluated for, by cohort (in/out) and status class (2xx, 4xx, 5xx).",
    ["flag", "cohort", "status_class"],
)
REQUEST_SECONDS = Histogram(
    "rollout_request_duration_seconds",
    "Latency of requests a flag was evaluated for, by cohort (in/out).",
    ["flag", "cohort"],
    buckets=LATENCY_BUCKETS,
)


def observe_request(*, flag: str, in_cohort: bool, status: int, seconds: float) -> None:
    """Count one request that ``flag`` was evaluated for and record its latency."""
    cohort = "in" if in_cohort else "out"
    REQUESTS.labels(flag=flag, cohort=cohort, status_class=f"{status // 100}xx").inc()
    REQUEST_SECONDS.labels(flag=flag, cohort=cohort).observe(seconds)
