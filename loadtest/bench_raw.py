"""The floor of the event-store benchmark: plain psycopg (3, the service's driver), no
store code at all.

Appends go to ``bench_raw_event``, a copy of ``finance_event`` with the same columns,
defaults, checks and indexes (not the foreign key to the streams table, not the
append-only triggers, which only fire on UPDATE and DELETE): one INSERT of the row and
a COMMIT. Loads read the very rows this store wrote and decode their JSON, which is the
least any replay must do.
"""

import json
import time
import uuid
from datetime import UTC, datetime

from loadtest.bench_database import BenchDatabase

_COLUMNS = "event_id, stream_id, stream_type, version, type, schema_version, data, metadata, recorded_at, hash"
_METADATA = json.dumps(
    {key: str(uuid.uuid4()) for key in ("actor", "causation_id", "correlation_id", "request_id")},
    sort_keys=True,
    separators=(",", ":"),
)
_HASH = "0" * 64


class RawPsycopg:
    def __init__(self, database: BenchDatabase):
        self.writer = database.connect()
        self.reader = database.connect(autocommit=True)
        with self.writer.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_raw_event (LIKE finance_event INCLUDING ALL)")
        self.writer.commit()
        self.version = 0

    def describe(self) -> dict:
        with self.writer.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous_commit = cursor.fetchone()[0]
        self.writer.rollback()
        return {"synchronous_commit": synchronous_commit}

    def _rows(self, size: int) -> list[tuple]:
        rows = []
        recorded_at = datetime.now(UTC)
        for _ in range(size):
            self.version += 1
            data = json.dumps(
                {"invoice_id": str(uuid.uuid4()), "number": f"INV-raw-{self.version:06d}", "sequence": self.version},
                sort_keys=True,
                separators=(",", ":"),
            )
            rows.append(
                (
                    str(uuid.uuid4()),
                    "invoice-numbers-raw",
                    "invoice-numbers",
                    self.version,
                    "InvoiceNumberAssigned",
                    1,
                    data,
                    _METADATA,
                    recorded_at,
                    _HASH,
                )
            )
        return rows

    def append(self, count: int, size: int) -> list[float]:
        """``count`` transactions of ``size`` rows each: INSERT (one statement) + COMMIT."""
        samples = []
        for _ in range(count):
            rows = self._rows(size)
            started = time.perf_counter()
            with self.writer.cursor() as cursor:
                if size == 1:
                    cursor.execute(
                        f"INSERT INTO bench_raw_event ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        rows[0],
                    )
                else:
                    # One multi-row INSERT statement, as psycopg2's execute_values sent.
                    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * size)
                    cursor.execute(
                        f"INSERT INTO bench_raw_event ({_COLUMNS}) VALUES {values}",
                        [value for row in rows for value in row],
                    )
            self.writer.commit()
            samples.append(time.perf_counter() - started)
        return samples

    def load(self, stream_id: str, count: int, snapshots: bool) -> list[float]:
        """Fetch the stream's event payloads (after its newest snapshot, if ``snapshots``)
        and decode their JSON."""
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            after = 0
            with self.reader.cursor() as cursor:
                if snapshots:
                    cursor.execute(
                        "SELECT version, state FROM finance_snapshot WHERE stream_id = %s"
                        " ORDER BY version DESC LIMIT 1",
                        [stream_id],
                    )
                    after, state = cursor.fetchone()
                    json.loads(state)
                cursor.execute(
                    "SELECT data FROM finance_event WHERE stream_id = %s AND version > %s ORDER BY version",
                    [stream_id, after],
                )
                payloads = [json.loads(row[0]) for row in cursor.fetchall()]
            samples.append(time.perf_counter() - started)
            del payloads
        return samples

    def close(self) -> None:
        self.writer.close()
        self.reader.close()
