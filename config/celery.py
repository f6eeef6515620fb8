"""The Celery application: a worker runs the tasks, exactly one beat schedules them."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("finance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task metrics, the worker's metrics port and tracing hang off Celery's signals.
from config import celery_signals  # noqa: E402, F401

app.conf.beat_schedule = {
    "snapshot-due-streams": {
        "task": "finance.tasks.snapshot_due_streams",
        "schedule": float(os.environ.get("FINANCE_SNAPSHOT_SCAN_SECONDS", "60")),
    },
    "publish-feed": {"task": "finance.tasks.publish_feed", "schedule": 5.0},
    "purge-idempotency-keys": {"task": "finance.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "guard-rollout-ramps": {"task": "rollout.tasks.guard_ramps", "schedule": 30.0},
    "republish-rollout-version": {"task": "rollout.tasks.republish_version", "schedule": 30.0},
    "verify-event-log": {
        "task": "finance.tasks.verify_event_log",
        "schedule": float(settings.FINANCE_VERIFY_EVERY_SECONDS),
    },
}
