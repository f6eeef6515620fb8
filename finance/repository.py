"""Load aggregates from the event store (newest usable snapshot + later events) and save
their new events (several aggregates in one atomic append)."""

import logging
import time
from collections.abc import Sequence
from typing import TypeVar

from django.conf import settings
from django.db import transaction

from finance import cache, metrics
from finance.api import request_context
from finance.domain import events as domain_events
from finance.domain.aggregate import Aggregate
from finance.domain.chart import ChartOfAccounts
from finance.domain.invoice import Invoice
from finance.domain.journal import JournalEntry
from finance.domain.numbering import InvoiceNumbering
from finance.domain.payment import Payment
from finance.domain.periods import Periods
from finance.eventstore import store, upcasting

logger = logging.getLogger(__name__)

AGGREGATE_TYPES: dict[str, type[Aggregate]] = {
    cls.TYPE: cls for cls in (ChartOfAccounts, Periods, JournalEntry, Invoice, Payment, InvoiceNumbering)
}
metrics.initialise_series(AGGREGATE_TYPES)
_SNAPSHOT_CANDIDATES = 3

A = TypeVar("A", bound=Aggregate)


def to_domain_event(recorded: store.RecordedEvent | store.EventPayload) -> domain_events.DomainEvent:
    """The domain event of a stored one, upcast to its current schema."""
    cls = domain_events.event_class(recorded.type)
    data = recorded.data
    if recorded.schema_version != cls.SCHEMA_VERSION:
        data = upcasting.upcast_event(recorded.type, data, recorded.schema_version, cls.SCHEMA_VERSION)
    return domain_events.from_data(recorded.type, data)


def _from_snapshot(cls: type[Aggregate], snapshot: store.StoredSnapshot) -> Aggregate | None:
    """The aggregate at the snapshot's version, or None if the snapshot is unusable."""
    if not store.snapshot_is_intact(snapshot):
        logger.warning("snapshot damaged, replaying", extra={"stream": snapshot.stream_id, "version": snapshot.version})
        return None
    state = snapshot.state
    if snapshot.schema_version != cls.SCHEMA_VERSION:
        state = upcasting.upcast_snapshot(cls.TYPE, state, snapshot.schema_version, cls.SCHEMA_VERSION)
        if state is None:
            return None
    try:
        return cls.from_state(state, snapshot.version)
    except (KeyError, TypeError, ValueError):
        logger.warning("snapshot unreadable, replaying", extra={"stream": snapshot.stream_id}, exc_info=True)
        return None


def _from_cache(cls: type[A], stream_id: str, started: float) -> A | None:
    """The aggregate from its cached state and the events after it (one query), or None
    when nothing usable is cached (see ``finance.cache``)."""
    cached = cache.get_aggregate(stream_id, cls.SCHEMA_VERSION)
    if cached is None:
        return None
    since = store.read_since(stream_id, version=cached.version, expected_hash=cached.event_hash)
    if since is None:
        return None
    recorded, head_hash = since
    try:
        aggregate = cls.from_state(cached.state, cached.version)
    except (KeyError, TypeError, ValueError):
        logger.warning("cached state unreadable, loading", extra={"stream": stream_id}, exc_info=True)
        return None
    for item in recorded:
        aggregate.apply(to_domain_event(item))
    if recorded:
        aggregate.version = recorded[-1].version
        cache.put_aggregate(
            stream_id, cls.SCHEMA_VERSION, cache.CachedState(aggregate.version, head_hash, aggregate.to_state())
        )
    metrics.observe_load(cls.TYPE, "cache", time.perf_counter() - started, len(recorded))
    return aggregate


def load(cls: type[A], aggregate_id: str, *, use_snapshots: bool = True) -> A:
    """The aggregate as of its last event; version 0 when the stream does not exist.
    ``use_snapshots=False`` replays every event, bypassing the cache as well."""
    started = time.perf_counter()
    stream_id = cls.stream_id_for(aggregate_id)
    use_cache = use_snapshots and cache.enabled()
    if use_cache:
        cached = _from_cache(cls, stream_id, started)
        if cached is not None:
            return cached
    aggregate = None
    recorded = None
    head_hash = ""
    if use_snapshots:
        # One round trip brings the newest snapshots and the events after the newest;
        # only when that one is unusable do the events after an older one (or all of
        # them) take a second.
        tail = store.read_tail(stream_id, snapshots=_SNAPSHOT_CANDIDATES)
        for snapshot in tail.snapshots:
            aggregate = _from_snapshot(cls, snapshot)
            if aggregate is not None:
                break
        if not tail.snapshots or (aggregate is not None and aggregate.version == tail.snapshots[0].version):
            recorded = tail.events
            head_hash = tail.head_hash
    source = "snapshot" if aggregate is not None else "replay"
    if aggregate is None:
        aggregate = cls(id=aggregate_id)
    if recorded is None:
        recorded = store.read_payloads(stream_id, after_version=aggregate.version)
    for item in recorded:
        aggregate.apply(to_domain_event(item))
    if recorded:
        aggregate.version = recorded[-1].version
    if use_cache and head_hash and aggregate.version:
        cache.put_aggregate(
            stream_id, cls.SCHEMA_VERSION, cache.CachedState(aggregate.version, head_hash, aggregate.to_state())
        )
    metrics.observe_load(cls.TYPE, source, time.perf_counter() - started, len(recorded))
    return aggregate


def save(aggregates: Sequence[Aggregate], *, actor: str) -> list[store.RecordedEvent]:
    """Append the pending events of every aggregate atomically, each at the version it
    was loaded at. Raises ``store.ConcurrencyConflict`` (and saves nothing) if any moved."""
    context = request_context.current()
    metadata = {
        "actor": actor,
        "request_id": context.request_id,
        "correlation_id": context.correlation_id,
        "causation_id": context.causation_id,
    }
    appends = [
        store.Append(
            stream_id=aggregate.stream_id,
            stream_type=aggregate.TYPE,
            expected_version=aggregate.version,
            events=[store.NewEvent(e.type_name(), e.SCHEMA_VERSION, e.to_data()) for e in aggregate.pending],
        )
        for aggregate in aggregates
        if aggregate.pending
    ]
    recorded = store.append(appends, metadata=metadata)
    head_hashes = {event.stream_id: event.hash for event in recorded}
    every = settings.FINANCE_SNAPSHOT_EVERY
    for aggregate in aggregates:
        if not aggregate.pending:
            continue
        old_version = aggregate.version
        aggregate.version += len(aggregate.pending)
        aggregate.pending.clear()
        if cache.enabled():
            # Written through before commit: should the transaction roll back, the event
            # hash it names never exists and a load ignores the entry.
            entry = cache.CachedState(aggregate.version, head_hashes[aggregate.stream_id], aggregate.to_state())
            cache.put_aggregate(aggregate.stream_id, aggregate.SCHEMA_VERSION, entry)
        metrics.EVENTS_APPENDED.labels(aggregate=aggregate.TYPE).inc(aggregate.version - old_version)
        if aggregate.version // every > old_version // every:
            _enqueue_snapshot_after_commit(aggregate.stream_id, aggregate.TYPE)
    return recorded


# After a failed enqueue (Redis away), writers stop trying for a while: each attempt
# would cost the request up to the broker's socket timeout, and the beat task snapshots
# every due stream anyway.
ENQUEUE_PAUSE_SECONDS = 30.0
_PRODUCER_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "max_retries": 0}
_enqueue_paused_until = 0.0


def _enqueue_snapshot_after_commit(stream_id: str, stream_type: str) -> None:
    def enqueue() -> None:
        from finance import tasks

        global _enqueue_paused_until
        if time.monotonic() < _enqueue_paused_until:
            logger.info("snapshot enqueue skipped: broker recently unreachable", extra={"stream": stream_id})
            return
        try:
            # One attempt on a connection of its own, with socket timeouts and no connection
            # retries: otherwise a request waited for a hung Redis until its client gave
            # up (7.6 s with timeouts but kombu's retries). Not for the worker: a worker
            # whose ack timed out stopped consuming. A snapshot is due once per 50 events
            # of a stream, so the extra connect is rare.
            with tasks.snapshot_stream.app.connection_for_write(transport_options=_PRODUCER_OPTIONS) as broker:
                tasks.snapshot_stream.apply_async((stream_id, stream_type), retry=False, connection=broker)
        except Exception:
            # The beat task finds every stream that is due, so nothing is lost.
            _enqueue_paused_until = time.monotonic() + ENQUEUE_PAUSE_SECONDS
            logger.warning("snapshot enqueue failed", extra={"stream": stream_id}, exc_info=True)

    transaction.on_commit(enqueue)


def snapshot(stream_id: str, stream_type: str) -> bool:
    """Write a snapshot of the stream from a fresh load (never from an object a request
    has been mutating). Idempotent. True if a new snapshot row was written."""
    cls = AGGREGATE_TYPES[stream_type]
    aggregate_id = stream_id[len(cls.TYPE) + 1 :]
    aggregate = load(cls, aggregate_id)
    if aggregate.version == 0:
        return False
    written = store.write_snapshot(
        stream_id, version=aggregate.version, schema_version=cls.SCHEMA_VERSION, state=aggregate.to_state()
    )
    if written:
        metrics.SNAPSHOTS_WRITTEN.labels(aggregate=stream_type).inc()
    return written
