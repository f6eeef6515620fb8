from decimal import Decimal

import pytest

from finance.domain.errors import RuleViolation
from rollout import ramp
from rollout.ramp import ADVANCE, COMPLETE, HOLD, ROLL_BACK, Traffic, judge, parse_plan

PLAN = {
    "stages": [{"percentage": "5", "hold_seconds": 600}, {"percentage": "50", "hold_seconds": 600}],
    "max_error_rate": "0.02",
    "max_p95_ms": 250,
    "min_requests": 100,
}


def traffic(requests: int, errors: int = 0, ms: float = 20) -> Traffic:
    counts = [0] * (len(ramp.LATENCY_BOUNDS_MS) + 1)
    counts[ramp.latency_bucket(ms)] = requests
    return Traffic(requests, errors, tuple(counts))


def test_a_plan_round_trips_through_its_json_form():
    plan = parse_plan(PLAN)

    assert plan.stages[0].percentage == Decimal("5.00")
    assert parse_plan(plan.to_json()) == plan


def test_every_bad_field_of_a_plan_is_named():
    bad = {
        "stages": [{"percentage": "50", "hold_seconds": -1}, {"percentage": "40.123", "hold_seconds": 10}],
        "max_error_rate": "2",
        "max_p95_ms": "fast",
        "colour": "red",
    }

    with pytest.raises(RuleViolation) as raised:
        parse_plan(bad)

    assert sorted(e.field for e in raised.value.errors) == [
        "ramp.colour",
        "ramp.max_error_rate",
        "ramp.max_p95_ms",
        "ramp.stages[0].hold_seconds",
        "ramp.stages[1].percentage",
    ]


def test_stage_percentages_must_rise():
    with pytest.raises(RuleViolation, match="higher than the stage before"):
        parse_plan(
            {**PLAN, "stages": [{"percentage": "50", "hold_seconds": 1}, {"percentage": "20", "hold_seconds": 1}]}
        )


def test_json_numbers_for_a_percentage_are_refused():
    with pytest.raises(RuleViolation):
        parse_plan({**PLAN, "stages": [{"percentage": 5.5, "hold_seconds": 1}]})


def test_holds_until_the_stage_has_held_long_enough():
    assert judge(parse_plan(PLAN), 0, 599, traffic(1000)).action == HOLD


def test_advances_after_the_hold_within_limits():
    verdict = judge(parse_plan(PLAN), 0, 600, traffic(1000, errors=20))

    assert verdict.action == ADVANCE
    assert "0.0200" in verdict.detail


def test_completes_after_holding_the_last_stage():
    assert judge(parse_plan(PLAN), 1, 601, traffic(1000)).action == COMPLETE


def test_waits_for_enough_traffic_before_advancing():
    verdict = judge(parse_plan(PLAN), 0, 10_000, traffic(99))

    assert (verdict.action, verdict.detail) == (HOLD, "waiting for traffic: 99 of 100 requests")


def test_rolls_back_on_too_many_errors_even_during_the_hold():
    verdict = judge(parse_plan(PLAN), 0, 5, traffic(1000, errors=21))

    assert verdict.action == ROLL_BACK
    assert "5xx share 0.0210 over the limit 0.02" in verdict.detail


def test_rolls_back_on_slow_p95():
    verdict = judge(parse_plan(PLAN), 1, 5, traffic(1000, ms=400))

    assert verdict.action == ROLL_BACK
    assert "P95 latency up to 500 ms over the limit 250 ms" in verdict.detail


def test_too_few_requests_never_roll_back():
    assert judge(parse_plan(PLAN), 0, 5, traffic(50, errors=50)).action == HOLD


def test_p95_is_the_upper_bound_of_the_bucket_holding_the_95th_percentile():
    counts = [0] * (len(ramp.LATENCY_BOUNDS_MS) + 1)
    counts[ramp.latency_bucket(3)] = 94
    counts[ramp.latency_bucket(70)] = 6

    assert Traffic(100, 0, tuple(counts)).p95_ms() == 100


def test_latency_beyond_the_last_bound_is_open_ended():
    counts = [0] * (len(ramp.LATENCY_BOUNDS_MS) + 1)
    counts[-1] = 10

    assert Traffic(10, 0, tuple(counts)).p95_ms() is None
    assert judge(parse_plan({**PLAN, "min_requests": 1}), 0, 0, Traffic(10, 0, tuple(counts))).action == ROLL_BACK


@pytest.mark.parametrize("limit", [400, 20_000])
def test_a_p95_limit_off_the_histograms_bounds_is_refused(limit):
    with pytest.raises(RuleViolation) as raised:
        parse_plan({**PLAN, "max_p95_ms": limit})

    assert [e.field for e in raised.value.errors] == ["ramp.max_p95_ms"]


@pytest.mark.parametrize("limit", ramp.LATENCY_BOUNDS_MS)
def test_at_a_bound_the_p95_check_is_exact(limit):
    # 95 requests at the limit and 5 just over it: within; one more over it: not.
    def cohort(over: int) -> Traffic:
        counts = [0] * (len(ramp.LATENCY_BOUNDS_MS) + 1)
        counts[ramp.latency_bucket(limit)] += 100 - over
        counts[ramp.latency_bucket(limit + 0.5)] += over
        return Traffic(100, 0, tuple(counts))

    plan = parse_plan({**PLAN, "max_p95_ms": limit})

    assert judge(plan, 0, 600, cohort(5)).action == ADVANCE
    assert judge(plan, 0, 600, cohort(6)).action == ROLL_BACK
