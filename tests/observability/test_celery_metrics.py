import pytest
from prometheus_client import REGISTRY

from config import celery_signals
from config.celery import app


@app.task(name="tests.observability.divide")
def divide(a, b):
    return a / b


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_task_runs_are_counted_by_outcome_and_timed():
    before_ok = sample("finance_celery_tasks_total", task="tests.observability.divide", outcome="succeeded")
    before_failed = sample("finance_celery_tasks_total", task="tests.observability.divide", outcome="failed")
    before_timed = sample("finance_celery_task_runtime_seconds_count", task="tests.observability.divide")

    assert divide.apply(args=(6, 3)).get() == 2
    with pytest.raises(ZeroDivisionError):
        divide.apply(args=(1, 0)).get()

    assert sample("finance_celery_tasks_total", task="tests.observability.divide", outcome="succeeded") == before_ok + 1
    assert (
        sample("finance_celery_tasks_total", task="tests.observability.divide", outcome="failed") == before_failed + 1
    )
    assert sample("finance_celery_task_runtime_seconds_count", task="tests.observability.divide") == before_timed + 2


def test_every_outcome_series_exists_before_anything_ran():
    celery_signals.initialise_task_series(["tests.observability.never_run"])

    for outcome in celery_signals.OUTCOMES:
        value = REGISTRY.get_sample_value(
            "finance_celery_tasks_total", {"task": "tests.observability.never_run", "outcome": outcome}
        )
        assert value == 0.0
