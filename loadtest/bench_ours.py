"""This service's event store in the benchmark, driven the way a service drives it:
``repository.save`` of an ``InvoiceNumbering`` aggregate (the per-year invoice number
stream, one event per issued invoice) and ``repository.load`` of it.

Import only after ``django.setup()``.
"""

import time
import uuid
from contextlib import contextmanager
from unittest import mock

import psycopg
from django.db import connection

from finance import repository
from finance.domain.numbering import InvoiceNumbering
from finance.eventstore import feed

BATCH = 1000
ACTOR = "bench"


@contextmanager
def feed_positioner_off():
    """Appends without the after-commit positioner run (what ``append only`` measures);
    on exit the positioner catches up, untimed, so the next timed run starts level."""
    with mock.patch.object(feed, "advance_and_publish", lambda **_: 0):
        yield
    feed.advance_and_publish()


class OurStore:
    def __init__(self) -> None:
        self.writing = repository.load(InvoiceNumbering, "bench-writes")

    def describe(self) -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous_commit = cursor.fetchone()[0]
        return {"psycopg": psycopg.__version__, "synchronous_commit": synchronous_commit}

    def append(self, count: int, size: int, *, positioner: bool) -> list[float]:
        """``count`` saves of ``size`` new events each to one long stream, each save its
        own transaction; with ``positioner`` the feed positioner runs after each commit,
        as it does for every real write."""
        if not positioner:
            with feed_positioner_off():
                return self.append(count, size, positioner=True)
        samples = []
        for _ in range(count):
            for _ in range(size):
                self.writing.assign(str(uuid.uuid4()))
            started = time.perf_counter()
            repository.save([self.writing], actor=ACTOR)
            samples.append(time.perf_counter() - started)
        return samples

    def build(self, events: int) -> tuple[str, str]:
        """(aggregate id, stream id) of a stream of exactly ``events`` events, snapshotted at its head (as the snapshot
        task leaves a stream whose length is a multiple of FINANCE_SNAPSHOT_EVERY)."""
        aggregate_id = f"load-{events}"
        aggregate = repository.load(InvoiceNumbering, aggregate_id)
        for done in range(1, events + 1):
            aggregate.assign(str(uuid.uuid4()))
            if done % BATCH == 0 or done == events:
                repository.save([aggregate], actor=ACTOR)
        repository.snapshot(aggregate.stream_id, InvoiceNumbering.TYPE)
        return aggregate_id, aggregate.stream_id

    def load(self, aggregate_id: str, count: int, snapshots: bool) -> list[float]:
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            aggregate = repository.load(InvoiceNumbering, aggregate_id, use_snapshots=snapshots)
            samples.append(time.perf_counter() - started)
            if aggregate.last != aggregate.version:
                raise RuntimeError(f"loaded a wrong state: last={aggregate.last} at version {aggregate.version}")
        return samples
