"""The Grafana dashboards of the finance service, as code.

This file is the one source of truth: ``make dashboards`` writes one JSON file per
dashboard beside it, which Grafana's dashboard sidecar loads from a ConfigMap
(k8s/monitoring/kustomization.yaml). tests/observability checks that the JSON is what
this file generates, and evaluates every panel's query against a real Prometheus that
scraped the app.

Request metrics come from django-prometheus; the event store, Celery, verification and
dependency figures from the service (config/service_metrics.py, finance/metrics.py,
config/celery_signals.py); the rollout ones from rollout/ and config/rollout_metrics.py.
"""

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

HERE = Path(__file__).resolve().parent
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")

# User-facing requests: not the probes, not the scrape, not the long-lived SSE stream.
USER_VIEWS = 'view!~"healthz|readyz|metrics|events-stream"'
RESPONSES = "django_http_responses_total_by_status_view_method_total"
REQUESTS = "django_http_requests_total_by_view_transport_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method_bucket"


def query(expr: str, legend: str = "") -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    return target.legend_format(legend) if legend else target


def graph(title: str, description: str, unit: str, *targets: prometheus.Dataquery, width: int = 12):
    panel = timeseries.Panel().title(title).description(description).unit(unit).datasource(DATASOURCE)
    for ref_id, target in zip("ABCDEFGH", targets, strict=False):
        panel = panel.with_target(target.ref_id(ref_id))
    return panel.height(8).span(width)


def single(title: str, description: str, unit: str, target: prometheus.Dataquery, width: int = 6):
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .with_target(target.ref_id("A"))
        .height(5)
        .span(width)
    )


def quantile(q: float, metric: str, by: str, selector: str = "") -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}{{{selector}}}[5m])))"


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["finance"])
        .timezone("utc")
        .time("now-6h", "now")
        .refresh("30s")
        .readonly()
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )


def overview() -> dashboard.Dashboard:
    return (
        base("finance-overview", "Finance — service overview", "Traffic, errors, latency, cache and database.")
        .with_row(dashboard.Row("Traffic and errors"))
        .with_panel(
            single(
                "Requests per second",
                "User-facing requests per second, all pods.",
                "reqps",
                query(f"sum(rate({REQUESTS}{{{USER_VIEWS}}}[5m]))"),
            )
        )
        .with_panel(
            single(
                "Error rate (5xx)",
                "Share of user-facing requests answered with a 5xx (SLO: under 0.1 %).",
                "percentunit",
                query("finance:availability_errors:ratio_rate5m"),
            )
        )
        .with_panel(
            single(
                "Slow requests (> 300 ms)",
                "Share of user-facing requests slower than 300 ms (SLO: under 5 %).",
                "percentunit",
                query("finance:latency_slow:ratio_rate5m"),
            )
        )
        .with_panel(
            single(
                "Dependencies down",
                "Postgres and Redis as the web pods see them: 1 up, 0 down (worst pod).",
                "none",
                query("min by (dependency) (finance_dependency_up)", "{{dependency}}"),
            )
        )
        .with_panel(
            graph(
                "Requests by view",
                "Requests per second by Django view.",
                "reqps",
                query(f"sum by (view) (rate({REQUESTS}{{{USER_VIEWS}}}[5m]))", "{{view}}"),
            )
        )
        .with_panel(
            graph(
                "Responses by status",
                "Responses per second by HTTP status.",
                "reqps",
                query(f"sum by (status) (rate({RESPONSES}{{{USER_VIEWS}}}[5m]))", "{{status}}"),
            )
        )
        .with_row(dashboard.Row("Latency by view"))
        .with_panel(
            graph(
                "P50 latency",
                "Median latency by view.",
                "s",
                query(quantile(0.5, LATENCY, "view", USER_VIEWS), "{{view}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "P95 latency",
                "95th percentile by view (SLO: 300 ms).",
                "s",
                query(quantile(0.95, LATENCY, "view", USER_VIEWS), "{{view}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "P99 latency",
                "99th percentile by view.",
                "s",
                query(quantile(0.99, LATENCY, "view", USER_VIEWS), "{{view}}"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Cache and database"))
        .with_panel(
            graph(
                "Cache hit rate",
                "Share of cache reads that found their key.",
                "percentunit",
                query("sum(rate(django_cache_get_hits_total[5m])) / sum(rate(django_cache_get_total[5m]))", "hit rate"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Database time",
                "Seconds spent in SQL per second of wall time, all pods (1 = one connection busy).",
                "s",
                query("sum(rate(django_db_query_duration_seconds_sum[5m]))", "SQL time"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Queries per second",
                "SQL statements per second, and connections taken per second: from the pool of each"
                " process (DB_POOL), or opened anew with DB_POOL=0.",
                "ops",
                query("sum(rate(django_db_execute_total[5m]))", "queries"),
                query("sum(rate(django_db_new_connections_total[5m]))", "connections taken"),
                width=8,
            )
        )
    )


def event_store() -> dashboard.Dashboard:
    return (
        base("finance-eventstore", "Finance — event store", "Appends, loads, snapshots, conflicts and verification.")
        .with_row(dashboard.Row("Writes"))
        .with_panel(
            graph(
                "Events appended",
                "Events appended per second by aggregate type.",
                "ops",
                query("sum by (aggregate) (rate(finance_events_appended_total[5m]))", "{{aggregate}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Concurrency conflicts",
                "Appends refused because the stream had moved on (retried by the service), per second.",
                "ops",
                query("sum by (aggregate) (rate(finance_concurrency_conflicts_total[5m]))", "{{aggregate}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Idempotent replays",
                "Requests answered from a stored response (same Idempotency-Key), per second.",
                "ops",
                query("sum(rate(finance_idempotent_replays_total[5m]))", "replays"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Loads"))
        .with_panel(
            graph(
                "Load time P95 by source",
                "95th percentile time to load an aggregate: from a snapshot, a full replay or the cache.",
                "s",
                query(quantile(0.95, "finance_aggregate_load_seconds_bucket", "source"), "{{source}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Loads by source",
                "Aggregate loads per second by where the state came from.",
                "ops",
                query("sum by (source) (rate(finance_aggregate_load_seconds_count[5m]))", "{{source}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Events replayed per load P95",
                "95th percentile of events applied on top of the snapshot (or from the start).",
                "none",
                query(quantile(0.95, "finance_events_replayed_bucket", "aggregate"), "{{aggregate}}"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Snapshots"))
        .with_panel(
            graph(
                "Snapshot lag",
                "Most events any stream has past its last snapshot, and the threshold that makes it due.",
                "none",
                query("max(finance_snapshot_lag_events)", "lag"),
                query("max(finance_snapshot_every_events)", "due at"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Streams due",
                "Streams with FINANCE_SNAPSHOT_EVERY or more events past their last snapshot.",
                "none",
                query("max(finance_snapshots_due)", "due"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Snapshots written",
                "Snapshots written per second by aggregate type (Celery).",
                "ops",
                query("sum by (aggregate) (rate(finance_snapshots_written_total[5m]))", "{{aggregate}}"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Verification"))
        .with_panel(
            single(
                "Projection drift",
                "Read-model rows that differed from a rebuild at the last verify_projections (0 = in step).",
                "none",
                query("max(finance_projection_drift)"),
            )
        )
        .with_panel(
            single(
                "Projections verified",
                "Time since verify_projections last finished.",
                "s",
                query("time() - max(finance_projection_verified_timestamp_seconds)"),
            )
        )
        .with_panel(
            single(
                "Bad events",
                "Broken hash chains the last verify_events found (0 = intact).",
                "none",
                query("max(finance_event_log_bad_events)"),
            )
        )
        .with_panel(
            single(
                "Event log verified",
                "Time since verify_events last finished.",
                "s",
                query("time() - max(finance_event_log_verified_timestamp_seconds)"),
            )
        )
    )


def rollout() -> dashboard.Dashboard:
    errors = 'sum by (flag, cohort) (rate(rollout_requests_total{status_class="5xx"}[5m]))'
    total = "sum by (flag, cohort) (rate(rollout_requests_total[5m]))"
    return (
        base("finance-rollout", "Finance — rollout", "Flag percentages and the new behaviour against the old.")
        .with_panel(
            graph(
                "Flag percentage",
                "Share of subjects each flag is on for (0 while its kill switch is off).",
                "percent",
                query("max by (flag) (rollout_flag_percentage)", "{{flag}}"),
            )
        )
        .with_panel(
            graph(
                "Decisions by cohort",
                "Flag decisions per second, in the cohort (new behaviour) or out of it.",
                "ops",
                query("sum by (flag, cohort) (rate(rollout_decisions_total[5m]))", "{{flag}} {{cohort}}"),
            )
        )
        .with_panel(
            graph(
                "Error rate in / out of cohort",
                "Share of requests answered with a 5xx, per flag and cohort.",
                "percentunit",
                # A cohort without a single 5xx reads 0, not "no data".
                query(f"({errors} or {total} * 0) / {total}", "{{flag}} {{cohort}}"),
            )
        )
        .with_panel(
            graph(
                "P95 latency in / out of cohort",
                "95th percentile latency per flag and cohort.",
                "s",
                query(quantile(0.95, "rollout_request_duration_seconds_bucket", "flag, cohort"), "{{flag}} {{cohort}}"),
            )
        )
        .with_panel(
            graph(
                "Ramp steps and rollbacks",
                "Ramp stages advanced and automatic rollbacks, per hour.",
                "none",
                query("sum by (flag) (increase(rollout_ramp_advances_total[1h]))", "{{flag}} advanced"),
                query("sum by (flag) (increase(rollout_ramp_rollbacks_total[1h]))", "{{flag}} rolled back"),
            )
        )
    )


def celery() -> dashboard.Dashboard:
    return (
        base("finance-celery", "Finance — Celery", "Queues, task outcomes and runtimes.")
        .with_panel(
            graph(
                "Queue length",
                "Tasks waiting in each queue on the broker.",
                "none",
                query("max by (queue) (finance_celery_queue_length)", "{{queue}}"),
            )
        )
        .with_panel(
            graph(
                "Task runs by outcome",
                "Task runs per second by task and outcome.",
                "ops",
                query("sum by (task, outcome) (rate(finance_celery_tasks_total[5m]))", "{{task}} {{outcome}}"),
            )
        )
        .with_panel(
            graph(
                "Failure ratio",
                "Share of runs that failed, per task.",
                "percentunit",
                query(
                    'sum by (task) (rate(finance_celery_tasks_total{outcome="failed"}[5m]))'
                    ' / sum by (task) (rate(finance_celery_tasks_total{outcome=~"succeeded|failed"}[5m]))',
                    "{{task}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Runtime P95",
                "95th percentile task runtime, per task.",
                "s",
                query(quantile(0.95, "finance_celery_task_runtime_seconds_bucket", "task"), "{{task}}"),
            )
        )
    )


def slo() -> dashboard.Dashboard:
    return (
        base("finance-slo", "Finance — SLOs", "Availability 99.9 % and latency P95 < 300 ms over 30 days.")
        .with_panel(
            single(
                "Availability budget remaining",
                "Share of the 30-day error budget (0.1 % of requests) not yet spent; negative = overspent.",
                "percentunit",
                query("finance:availability:error_budget_remaining"),
            )
        )
        .with_panel(
            single(
                "Latency budget remaining",
                "Share of the 30-day latency budget (5 % of requests over 300 ms) not yet spent.",
                "percentunit",
                query("finance:latency:error_budget_remaining"),
            )
        )
        .with_panel(
            single(
                "Availability, 30 days",
                "Share of user-facing requests answered without a 5xx (objective 99.9 %).",
                "percentunit",
                query("1 - finance:availability_errors:ratio_rate30d"),
            )
        )
        .with_panel(
            single(
                "Requests under 300 ms, 30 days",
                "Share of user-facing requests answered within 300 ms (objective 95 %).",
                "percentunit",
                query("1 - finance:latency_slow:ratio_rate30d"),
            )
        )
        .with_panel(
            graph(
                "Availability burn rate",
                "How fast the budget burns (1 = exactly used up in 30 days). Pages at 14.4 (1h) and 6 (6h).",
                "none",
                query("finance:availability_errors:ratio_rate1h / 0.001", "1h"),
                query("finance:availability_errors:ratio_rate6h / 0.001", "6h"),
                query("finance:availability_errors:ratio_rate3d / 0.001", "3d"),
            )
        )
        .with_panel(
            graph(
                "Latency burn rate",
                "How fast the latency budget burns (1 = exactly used up in 30 days).",
                "none",
                query("finance:latency_slow:ratio_rate1h / 0.05", "1h"),
                query("finance:latency_slow:ratio_rate6h / 0.05", "6h"),
                query("finance:latency_slow:ratio_rate3d / 0.05", "3d"),
            )
        )
    )


DASHBOARDS = {
    "overview": overview,
    "event-store": event_store,
    "rollout": rollout,
    "celery": celery,
    "slo": slo,
}


def render(name: str) -> str:
    """The JSON Grafana loads for dashboard ``name``, exactly as committed."""
    return json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main() -> int:
    for name in DASHBOARDS:
        (HERE / f"{name}.json").write_text(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
