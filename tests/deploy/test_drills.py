"""The operational drills, run for real: gunicorn with the production config on
loopback, real Postgres and Redis. Their figures are recorded in docs/reliability.md."""

import json

import pytest
from django.conf import settings

from loadtest.drills import flag_rollback, postgres_restart, rolling_restart, sigterm
from tests.deploy.drill_targets import drill_database_url, drill_redis_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="the drills run on Postgres and Redis whatever the suite's backend: the Postgres run covers them",
    ),
]


def report(result: dict) -> str:
    return json.dumps(result, indent=2)


def test_rolling_restart_under_load_fails_no_request():
    result = rolling_restart.run(drill_database_url(), drill_redis_url(), restarts=2)

    assert result["requests"] > 0, report(result)
    assert result["failed"] == 0, report(result)
    assert result["server_errors"] == 0, report(result)
    assert result["acknowledged_writes_missing"] == 0, report(result)
    assert result["writes_created_twice_or_unacknowledged"] == 0, report(result)
    assert len(result["workers_replaced_and_serving_after_seconds"]) == 2, report(result)


def test_sigterm_under_load_completes_every_in_flight_request():
    result = sigterm.run(drill_database_url(), drill_redis_url(), batch_size=200)

    assert result["in_flight_at_sigterm"] > 0, report(result)
    assert result["in_flight_completed_ok"] == result["in_flight_at_sigterm"], report(result)
    assert result["failed_before_sigterm"] == 0, report(result)
    assert result["server_errors"] == 0, report(result)
    assert result["gunicorn_exit_code"] == 0, report(result)
    assert result["acknowledged_entries_missing"] == 0, report(result)


def test_postgres_restart_under_load_is_survived_without_a_restart():
    result = postgres_restart.run(drill_redis_url())

    assert result["readyz_503_answers"] > 0, report(result)
    assert result["recovered_after_postgres_up_seconds"] is not None, report(result)
    assert result["refused_during_outage_not_503"] == 0, report(result)
    assert result["failed_outside_outage"] == 0, report(result)
    assert result["writes_after_recovery"] > 0, report(result)
    assert result["writes_after_recovery_ok"] == result["writes_after_recovery"], report(result)
    assert result["same_processes_throughout"], report(result)
    assert result["acknowledged_writes_missing"] == 0, report(result)


def test_a_gated_flag_set_to_zero_stops_new_requests_entering_the_cohort_within_two_seconds():
    result = flag_rollback.run(drill_database_url(), drill_redis_url())

    assert result["in_cohort_before_change"] > 0, report(result)
    # The bound the design states for a change to reach every worker, not a speed figure.
    assert result["entered_cohort_later_than_bound"] == 0, report(result)
    assert result["requests_after_bound"] > 0, report(result)
    assert result["requests_after_bound_out_of_cohort_404"] == result["requests_after_bound"], report(result)
    assert result["server_errors"] == 0, report(result)
