"""Celery metrics and tracing, wired to Celery's signals (imported by config.celery).

- Each task run is counted by outcome and timed, in the worker that runs it.
- Worker processes write their samples to ``PROMETHEUS_MULTIPROC_DIR``; the worker's main
  process serves them all on ``CELERY_METRICS_PORT`` (the worker has no web server).
- Tracing starts in each pool process after the fork (``worker_process_init``), or in the
  worker itself when its pool does not fork; the trace context of the request that
  enqueued a task travels in the message headers (opentelemetry-instrumentation-celery).
- Database pools: a pool process drops any pool it inherited right after the fork
  (config/database_pools.py, for every fork of the service); Celery's Django fixup then
  closes the process's connections and its own pool at start and after every task.
"""

import logging
import os
import time

from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

from config import telemetry

logger = logging.getLogger(__name__)

RUNTIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
OUTCOMES = ("succeeded", "failed", "retried")

TASKS = Counter("finance_celery_tasks_total", "Celery task runs, by task and outcome.", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "finance_celery_task_runtime_seconds", "Time a Celery task ran, by task.", ["task"], buckets=RUNTIME_BUCKETS
)

# Task id -> perf_counter at start; a pool process runs one task at a time, so this stays small.
_started: dict[str, float] = {}


def initialise_task_series(task_names) -> None:
    """Create every (task, outcome) series at zero, so that a failure ratio is 0 rather
    than missing before the first failure."""
    for name in task_names:
        for outcome in OUTCOMES:
            TASKS.labels(task=name, outcome=outcome)
        TASK_SECONDS.labels(task=name)


@signals.task_prerun.connect
def _task_started(task_id=None, **kwargs) -> None:
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is None or task is None:
        return
    TASK_SECONDS.labels(task=task.name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASKS.labels(task=task.name, outcome="succeeded").inc()


@signals.task_failure.connect
def _task_failed(sender=None, task_id=None, exception=None, **kwargs) -> None:
    TASKS.labels(task=sender.name, outcome="failed").inc()
    logger.error(
        "task failed",
        extra={"task": sender.name, "task_id": task_id, "error": type(exception).__name__},
        exc_info=exception,
    )


@signals.task_retry.connect
def _task_retried(sender=None, request=None, reason=None, **kwargs) -> None:
    TASKS.labels(task=sender.name, outcome="retried").inc()
    logger.warning("task retried", extra={"task": sender.name, "reason": str(reason)})


@signals.worker_init.connect
def _worker_started(sender=None, **kwargs) -> None:
    app = sender.app
    initialise_task_series(name for name in app.tasks if not name.startswith("celery."))
    port = os.environ.get("CELERY_METRICS_PORT")
    if port:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        start_http_server(int(port), registry=registry)
        logger.info("worker metrics served", extra={"port": int(port)})
    if not _pool_forks(sender):
        telemetry.init_tracing("finance-worker")


def _pool_forks(worker) -> bool:
    pool = getattr(worker, "pool_cls", None)
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    return "prefork" in name


@signals.worker_process_init.connect
def _pool_process_started(**kwargs) -> None:
    telemetry.init_tracing("finance-worker")


@signals.worker_process_shutdown.connect
def _pool_process_stopped(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())
