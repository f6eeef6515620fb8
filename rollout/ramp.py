"""Guarded staged ramps: the plan, and the verdict on one stage. Plain Python, no Django.

A plan is a list of stages (a percentage and a minimum hold) and guard rails: the largest
share of 5xx responses and the largest P95 latency the flag's cohort may show, and how many
requests a verdict needs before it means anything. The Celery beat task feeds ``judge``
the cohort's traffic since the stage began and acts on its verdict.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from finance.domain.errors import Problems

# Upper bounds (ms) of the latency histogram the middleware fills; the last is open-ended.
LATENCY_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
MAX_HOLD_SECONDS = 7 * 24 * 3600
MAX_STAGES = 20


@dataclass(frozen=True)
class Stage:
    percentage: Decimal
    hold_seconds: int


@dataclass(frozen=True)
class RampPlan:
    stages: tuple[Stage, ...]
    max_error_rate: Decimal
    max_p95_ms: int
    min_requests: int

    def to_json(self) -> dict:
        return {
            "stages": [{"percentage": f"{s.percentage:.2f}", "hold_seconds": s.hold_seconds} for s in self.stages],
            "max_error_rate": str(self.max_error_rate),
            "max_p95_ms": self.max_p95_ms,
            "min_requests": self.min_requests,
        }


@dataclass(frozen=True)
class Traffic:
    """A cohort's requests over a window: totals, 5xx, and a latency histogram whose
    counts line up with ``LATENCY_BOUNDS_MS`` plus one open-ended bucket."""

    requests: int
    errors: int
    latency_counts: tuple[int, ...]

    @property
    def error_rate(self) -> Decimal:
        return Decimal(self.errors) / Decimal(self.requests) if self.requests else Decimal(0)

    def p95_ms(self) -> int | None:
        """The upper bound of the bucket holding the 95th percentile (``None`` if it is the
        open-ended one): a P95 never reported lower than it was. Against a limit that is
        itself a bound, ``p95_ms() > limit`` holds exactly when more than 5 % of the
        requests took longer than the limit."""
        if not self.requests:
            return 0
        rank = self.requests * 95 / 100
        seen = 0
        for index, count in enumerate(self.latency_counts):
            seen += count
            if seen >= rank:
                return LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else None
        return None


def latency_bucket(ms: float) -> int:
    """Index of the histogram bucket a latency falls in."""
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if ms <= bound:
            return index
    return len(LATENCY_BOUNDS_MS)


HOLD, ADVANCE, COMPLETE, ROLL_BACK = "hold", "advance", "complete", "roll_back"


@dataclass(frozen=True)
class Verdict:
    action: str
    detail: str


def judge(plan: RampPlan, stage: int, held_seconds: float, traffic: Traffic) -> Verdict:
    """What to do with a running ramp at ``stage`` that has held for ``held_seconds`` and
    whose cohort showed ``traffic`` since the stage began. A breach rolls back at once; a
    stage advances only after its hold with enough requests, all within the limits."""
    enough = traffic.requests >= plan.min_requests
    p95 = traffic.p95_ms()
    if enough and traffic.requests:
        if traffic.error_rate > plan.max_error_rate:
            return Verdict(
                ROLL_BACK,
                f"5xx share {traffic.error_rate:.4f} over the limit {plan.max_error_rate} "
                f"({traffic.errors} of {traffic.requests} requests)",
            )
        if p95 is None or p95 > plan.max_p95_ms:
            shown = "over 10000" if p95 is None else f"up to {p95}"
            return Verdict(
                ROLL_BACK, f"P95 latency {shown} ms over the limit {plan.max_p95_ms} ms ({traffic.requests} requests)"
            )
    hold = plan.stages[stage].hold_seconds
    if held_seconds < hold:
        return Verdict(HOLD, f"stage {stage + 1} held {int(held_seconds)} of {hold} s")
    if not enough:
        return Verdict(HOLD, f"waiting for traffic: {traffic.requests} of {plan.min_requests} requests")
    summary = f"5xx share {traffic.error_rate:.4f}, P95 up to {p95} ms over {traffic.requests} requests"
    if stage + 1 >= len(plan.stages):
        return Verdict(COMPLETE, f"last stage held {hold} s within limits: {summary}")
    return Verdict(ADVANCE, f"stage {stage + 1} held {hold} s within limits: {summary}")


def _decimal(value, field: str, problems: Problems) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        problems.add(field, "must be a decimal string")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add(field, "must be a decimal string")
        return None
    if not number.is_finite():
        problems.add(field, "must be a finite number")
        return None
    return number


def _int(value, field: str, problems: Problems, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(field, "must be an integer")
        return None
    if not low <= value <= high:
        problems.add(field, f"must be between {low} and {high}")
        return None
    return value


def parse_plan(data, field: str = "ramp") -> RampPlan:
    """A plan from its JSON form, or ``RuleViolation`` naming every offending field.
    Stage percentages must rise strictly, each with at most two decimals."""
    problems = Problems()
    if not isinstance(data, dict):
        problems.add(field, "must be an object with stages and limits")
        problems.raise_if_any("invalid ramp plan")
    unknown = set(data) - {"stages", "max_error_rate", "max_p95_ms", "min_requests"}
    for key in sorted(unknown):
        problems.add(f"{field}.{key}", "unknown field")
    stages_data = data.get("stages")
    stages: list[Stage] = []
    if not isinstance(stages_data, list) or not 1 <= len(stages_data) <= MAX_STAGES:
        problems.add(f"{field}.stages", f"must be a list of 1 to {MAX_STAGES} stages")
        stages_data = []
    previous = Decimal(-1)
    for index, item in enumerate(stages_data):
        where = f"{field}.stages[{index}]"
        if not isinstance(item, dict) or set(item) != {"percentage", "hold_seconds"}:
            problems.add(where, "must be {percentage, hold_seconds}")
            continue
        percentage = _decimal(item["percentage"], f"{where}.percentage", problems)
        hold = _int(item["hold_seconds"], f"{where}.hold_seconds", problems, 0, MAX_HOLD_SECONDS)
        if percentage is None or hold is None:
            continue
        if not Decimal(0) < percentage <= Decimal(100) or percentage.as_tuple().exponent < -2:
            problems.add(f"{where}.percentage", "must be above 0 and at most 100, with at most two decimals")
            continue
        if percentage <= previous:
            problems.add(f"{where}.percentage", "must be higher than the stage before")
        previous = percentage
        stages.append(Stage(percentage.quantize(Decimal("0.01")), hold))
    error_rate = _decimal(data.get("max_error_rate"), f"{field}.max_error_rate", problems)
    if error_rate is not None and not Decimal(0) <= error_rate <= Decimal(1):
        problems.add(f"{field}.max_error_rate", "must be a share between 0 and 1")
    max_p95 = _int(data.get("max_p95_ms"), f"{field}.max_p95_ms", problems, 1, LATENCY_BOUNDS_MS[-1])
    if max_p95 is not None and max_p95 not in LATENCY_BOUNDS_MS:
        # At a bound, "P95 within the limit" is exactly "95 % of the requests in the
        # buckets up to it"; between two, the histogram cannot tell.
        problems.add(
            f"{field}.max_p95_ms",
            f"must be one of {', '.join(map(str, LATENCY_BOUNDS_MS))}: the bounds of the latency histogram",
        )
    min_requests = _int(data.get("min_requests", 100), f"{field}.min_requests", problems, 0, 10**9)
    problems.raise_if_any("invalid ramp plan")
    return RampPlan(tuple(stages), error_rate, max_p95, min_requests)
