"""Running a command: one transaction, bounded retries on concurrent appends, and the
read models projected before commit."""

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, transaction

from finance import metrics, repository
from finance.domain.aggregate import Aggregate
from finance.domain.chart import CHART_ID, ChartOfAccounts
from finance.domain.errors import NotFound, PreconditionFailed
from finance.domain.periods import PERIODS_ID, Periods
from finance.eventstore import store
from ledger import projections

logger = logging.getLogger(__name__)

DEADLOCK_DETECTED = "40P01"

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


def run(command: Callable[[], T], *, if_match: int | None = None, target: str | None = None) -> T:
    """Run ``command`` in a transaction. When another writer appends to one of its
    streams first, reload and run it again (bounded) — unless the caller sent
    ``If-Match`` for ``target``, which then fails with 412 instead.

    The first attempt takes no lock. A retry first locks every stream an earlier attempt
    lost a race on (in id order, as appends take them), so it cannot lose to the same
    writers again: under a hundred clients on one invoice, optimistic retries alone ran
    out of attempts and answered 409 (docs/reliability.md, Chaos)."""
    attempts = settings.FINANCE_COMMAND_RETRIES
    contended: set[str] = set()
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                store.lock_streams_exclusive(sorted(contended))
                return command()
        except store.ConcurrencyConflict as conflict:
            stream_type = conflict.stream_id.split("-", 1)[0]
            metrics.CONCURRENCY_CONFLICTS.labels(aggregate=stream_type).inc()
            if if_match is not None and conflict.stream_id == target:
                raise PreconditionFailed(if_match, conflict.actual_version or 0) from None
            if attempt == attempts:
                logger.warning("command gave up after conflicts", extra={"stream": conflict.stream_id})
                raise
            contended.update(conflict.streams)
        except OperationalError as error:
            # Two retries that lock overlapping streams may still deadlock with a writer
            # that holds a share lock; Postgres breaks the tie and the loser runs again.
            if getattr(error.__cause__, "pgcode", None) != DEADLOCK_DETECTED or attempt == attempts:
                raise
            logger.info("command deadlocked; retrying", extra={"attempt": attempt})
        time.sleep(random.uniform(0, 0.002 * attempt))
    raise AssertionError("unreachable")


def load_existing(cls: type[A], aggregate_id: str, *, if_match: int | None = None) -> A:
    """Load an aggregate that must exist (404 otherwise) at the version the caller
    expects, if it said (412 otherwise)."""
    aggregate = repository.load(cls, aggregate_id)
    if aggregate.version == 0:
        raise NotFound(f"{cls.TYPE.replace('-', ' ')} {aggregate_id} does not exist")
    if if_match is not None and aggregate.version != if_match:
        raise PreconditionFailed(if_match, aggregate.version)
    return aggregate


def load_books() -> tuple[ChartOfAccounts, Periods]:
    """The chart and the periods, for a command that posts. Their rows stay share-locked
    until commit, so deactivating an account or closing a period waits for postings in
    flight (and they for it) instead of racing them."""
    store.lock_streams_shared([ChartOfAccounts.stream_id_for(CHART_ID), Periods.stream_id_for(PERIODS_ID)])
    return repository.load(ChartOfAccounts, CHART_ID), repository.load(Periods, PERIODS_ID)


def commit(aggregates: Sequence[Aggregate], *, actor: str) -> None:
    """Append the aggregates' new events together and project them."""
    recorded = repository.save(aggregates, actor=actor)
    projections.project(recorded, aggregates)
