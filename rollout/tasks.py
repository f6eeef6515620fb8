"""Celery tasks of the rollout app. Idempotent: a redelivered guard run judges the same
ramps again and finds nothing new to do, or acts on the next verdict."""

import logging

from celery import shared_task

from rollout import registry, services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def guard_ramps() -> dict[str, str]:
    """Advance, complete or roll back every running ramp (scheduled by beat)."""
    actions = services.ramp_guard()
    if actions:
        logger.info("rollout ramps judged", extra={"actions": actions})
    return actions


@shared_task(ignore_result=True)
def republish_version() -> bool:
    """Publish the database's flag-set version again when the published token names
    another (a publish lost to a cache outage), so staleness lasts at most one period
    (scheduled by beat). True if it published."""
    version = registry.read_version()
    if registry.token_version(registry.read_signal()) == version:
        return False
    registry.publish_version(version)
    logger.warning("rollout version republished", extra={"version": version})
    return True
