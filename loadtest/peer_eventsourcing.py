"""The peer in the event-store benchmark: the ``eventsourcing`` library with its
PostgreSQL recorder and a snapshot store, driven by ``loadtest.bench_eventstore``.

It runs in its own virtualenv (``.venv-bench``, see requirements-bench.txt) and process,
so the library and its dependencies stay out of the service's virtualenv and its timings
out of the service's process. Both run on the same psycopg 3 release. It never imports
Django.

Protocol: one JSON command per line on stdin, one JSON answer per line on stdout.
Timings are taken here, around the library call alone, with ``time.perf_counter``.
"""

import json
import os
import sys
import time
import uuid

from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate, event

BATCH = 1000


class Numbering(Aggregate):
    """Gap-free invoice numbers of a year: the same events and rules as this service's
    ``InvoiceNumbering``, written the way the library's own examples write aggregates."""

    def __init__(self, year: str):
        self.year = year
        self.last = 0

    def assign(self, invoice_id: str) -> str:
        sequence = self.last + 1
        number = f"INV-{self.year}-{sequence:06d}"
        self.number_assigned(number=number, sequence=sequence, invoice_id=invoice_id)
        return number

    @event("NumberAssigned")
    def number_assigned(self, number: str, sequence: int, invoice_id: str) -> None:
        self.last = sequence


class BenchNumbering(Application):
    """Tables ``benchnumbering_events`` and ``benchnumbering_snapshots``."""

    is_snapshotting_enabled = True


class Peer:
    def __init__(self) -> None:
        self.app = BenchNumbering(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": os.environ["BENCH_PG_DBNAME"],
                "POSTGRES_HOST": os.environ["BENCH_PG_HOST"],
                "POSTGRES_PORT": os.environ["BENCH_PG_PORT"],
                "POSTGRES_USER": os.environ["BENCH_PG_USER"],
                "POSTGRES_PASSWORD": os.environ.get("BENCH_PG_PASSWORD", ""),
            }
        )
        # A repository without the snapshot store: what a load costs with no snapshot.
        self.replaying = Repository(event_store=self.app.events)
        self.writing: Numbering | None = None

    def describe(self) -> dict:
        from importlib.metadata import version

        with self.app.recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous_commit = cursor.fetchone()["synchronous_commit"]
        return {
            "eventsourcing": version("eventsourcing"),
            "psycopg": version("psycopg"),
            "synchronous_commit": synchronous_commit,
        }

    def _writer(self) -> Numbering:
        if self.writing is None:
            self.writing = Numbering(year="bench")
            self.app.save(self.writing)
        return self.writing

    def append(self, count: int, size: int) -> list[float]:
        """``count`` saves of ``size`` new events each to one long stream."""
        aggregate = self._writer()
        samples = []
        for _ in range(count):
            for _ in range(size):
                aggregate.assign(str(uuid.uuid4()))
            started = time.perf_counter()
            self.app.save(aggregate)
            samples.append(time.perf_counter() - started)
        return samples

    def build(self, events: int) -> dict:
        """A stream of exactly ``events`` events (creation included), snapshotted at its head."""
        aggregate = Numbering(year="load")
        for done in range(1, events):
            aggregate.assign(str(uuid.uuid4()))
            if done % BATCH == 0:
                self.app.save(aggregate)
        self.app.save(aggregate)
        self.app.take_snapshot(aggregate.id)
        return {"id": str(aggregate.id), "version": aggregate.version}

    def load(self, stream: str, count: int, snapshots: bool) -> list[float]:
        aggregate_id = uuid.UUID(stream)
        repository = self.app.repository if snapshots else self.replaying
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            aggregate = repository.get(aggregate_id)
            samples.append(time.perf_counter() - started)
            if aggregate.last != aggregate.version - 1:
                raise RuntimeError(f"loaded a wrong state: last={aggregate.last} at version {aggregate.version}")
        return samples


def main() -> None:
    # Answers go to the real stdout; anything the library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    peer = Peer()
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        result = getattr(peer, op)(**command)
        answers.write(json.dumps(result) + "\n")
        answers.flush()
    peer.app.close()


if __name__ == "__main__":
    main()
