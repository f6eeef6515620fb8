"""Celery tasks of the rollout app. Idempotent: a redelivered guard run judges the same
ramps again and finds nothing new to do, or acts on the next verdict."""

import logging

from celery import shared_task

from rollout import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def guard_ramps() -> dict[str, str]:
    """Advance, complete or roll back every running ramp (scheduled by beat)."""
    actions = services.ramp_guard()
    if actions:
        logger.info("rollout ramps judged", extra={"actions": actions})
    return actions
