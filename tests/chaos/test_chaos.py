"""The chaos scenarios at CI size, for real: gunicorn with the production config, a
private Postgres cluster and a private Redis, clients over HTTP. ``make chaos`` runs them
at full size and records the figures in docs/reliability.md."""

import json
import os
from decimal import Decimal

import pytest

from loadtest.chaos import contention, crash, redis_down
from loadtest.chaos.services import private_postgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="chaos runs several gunicorn processes against one database: Postgres only",
    ),
]


@pytest.fixture(scope="module")
def cluster():
    with private_postgres() as cluster:
        yield cluster


def report(result: dict) -> str:
    return json.dumps(result, indent=2)


def test_concurrent_clients_on_the_same_aggregates_lose_nothing_and_see_no_spurious_conflict(cluster):
    result = contention.run(cluster.url("finance_contention"), clients=30, rounds=4)

    assert result["server_errors"] == 0, report(result)
    assert result["acknowledged"] > 0, report(result)
    assert result["found"] == result["acknowledged"], report(result)
    assert result["duplicated"] == 0, report(result)
    assert result["refused_but_written"] == 0, report(result)
    assert result["written_by_unknown_requests"] == 0, report(result)
    assert result["conflicts_without_if_match"] == 0, report(result)
    assert Decimal(result["invoice_amount_paid"]) == Decimal(result["allocations_acknowledged_total"]), report(result)
    assert Decimal(result["payment_allocated"]) == Decimal(result["allocations_acknowledged_total"]), report(result)
    assert Decimal(result["entries_balance"]) == Decimal(result["entries_acknowledged_total"]), report(result)
    assert result["draft_version"] == 1 + result["draft_edits_acknowledged"], report(result)
    assert result["draft_edit_versions_claimed_twice"] == 0, report(result)
    assert result["draft_is_last_acknowledged_edit"], report(result)
    assert result["accounts_listed"] == result["accounts_acknowledged"], report(result)
    assert result["database_connections_peak"] <= result["database_connections_bound"], report(result)
    assert result["verify_events"] == "ok", report(result)
    assert result["verify_projections"] == "ok", report(result)


def test_kill_9_of_workers_and_master_loses_no_acknowledged_write(cluster):
    result = crash.run(cluster.url("finance_crash"), clients=4, cycles=2, master_every=2)

    assert result["workers_killed"] == 1, report(result)
    assert result["masters_killed"] == 1, report(result)
    assert result["workers_outliving_their_master"] == 0, report(result)
    assert result["acknowledged"] > 0, report(result)
    assert result["errors_by_kind"] == {}, report(result)
    assert result["found"] == result["acknowledged"], report(result)
    assert result["duplicated"] == 0, report(result)
    assert result["written_by_unknown_requests"] == 0, report(result)
    assert Decimal(result["entries_balance"]) == Decimal(result["entries_acknowledged_total"]), report(result)
    assert result["verify_events"] == "ok", report(result)
    assert result["verify_projections"] == "ok", report(result)


def test_with_redis_down_the_api_serves_and_beat_catches_up_afterwards(cluster):
    result = redis_down.run(cluster.url("finance_redis_down"), clients=3, downtime=3.0)

    assert result["requests_during_outage"] > 0, report(result)
    assert result["failed_during_outage"] == 0, report(result)
    assert result["writes_during_outage_ok"] > 0, report(result)
    assert result["reads_during_outage_ok"] > 0, report(result)
    assert result["server_errors"] == 0, report(result)
    assert result["rollout_flag_kept_during_outage"] == (
        f"{result['requests_during_outage']} of {result['requests_during_outage']}"
    ), report(result)
    assert set(result["readyz_during_outage"]) == {"503"}, report(result)
    assert result["ready_again_after_redis_up_seconds"] is not None, report(result)
    assert result["failed_enqueues_logged"] > 0, report(result)
    assert result["streams_due_for_snapshot_when_redis_returned"] > 0, report(result)
    assert result["snapshots_caught_up_after_redis_up_seconds"] is not None, report(result)
    assert result["events_unpublished_when_redis_returned"] > 0, report(result)
    assert result["feed_published_after_redis_up_seconds"] is not None, report(result)
    assert result["writes_after_recovery"] == "10 of 10 ok", report(result)
    assert result["found"] == result["acknowledged"], report(result)
    assert result["verify_events"] == "ok", report(result)
    assert result["verify_projections"] == "ok", report(result)
