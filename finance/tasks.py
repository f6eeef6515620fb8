"""Celery tasks: fetch ids, call the repository or a service. All idempotent, since the
broker may deliver a task twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from finance import metrics, repository
from finance.eventstore import feed, store
from finance.eventstore.verification import verify_chains
from finance.models import IdempotencyRecord

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def snapshot_stream(stream_id: str, stream_type: str) -> bool:
    """Snapshot one stream from a fresh load (a no-op if that snapshot exists)."""
    return repository.snapshot(stream_id, stream_type)


@shared_task(ignore_result=True)
def snapshot_due_streams() -> int:
    """Snapshot every stream with FINANCE_SNAPSHOT_EVERY events past its last snapshot,
    or whose snapshot has an outdated schema version."""
    due = store.streams_due_for_snapshot(
        every=settings.FINANCE_SNAPSHOT_EVERY,
        schema_versions={name: cls.SCHEMA_VERSION for name, cls in repository.AGGREGATE_TYPES.items()},
    )
    written = sum(repository.snapshot(stream_id, stream_type) for stream_id, stream_type in due)
    if due:
        logger.info("snapshots written", extra={"due": len(due), "written": written})
    return written


@shared_task(ignore_result=True)
def publish_feed() -> int:
    """Position and publish events that no writer got to (held back by a long
    transaction, or a publish that failed while Redis was down)."""
    return feed.advance_and_publish(wait=False)


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.FINANCE_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(ignore_result=True)
def verify_event_log() -> bool:
    """Re-walk every hash chain and record the outcome for /metrics, where
    FinanceEventLogBroken alerts on it. The whole log every time: a check that started
    where the last one stopped would never see an old event edited in place, which is
    the tampering it is there to catch."""
    checked, bad = verify_chains()
    metrics.record_verification(metrics.EVENT_LOG, differences=1 if bad else 0)
    if bad is not None:
        logger.error(
            "event log verification failed",
            extra={"event_id": bad.event_id, "stream_id": bad.stream_id, "version": bad.version, "reason": bad.reason},
        )
        return False
    logger.info("event log verified", extra={"events": checked})
    return True
