"""Append to and read from streams; write and read snapshots.

Hand-written SQL that runs unchanged on Postgres and SQLite. An append moves each
stream's version with ``UPDATE … WHERE version = expected`` (a miss is a concurrency
conflict, ``UNIQUE(stream_id, version)`` backs it up) and inserts all events of all
streams in the caller's transaction: several streams commit together or not at all.
"""

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from finance.eventstore import canonical

GENESIS_HASH = ""
SNAPSHOTS_KEPT = 3
_INSERT_CHUNK = 500


class ConcurrencyConflict(Exception):
    """The stream moved on since it was loaded: reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None):
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        # Every stream the failed append wrote to (set by ``append``): a retry that locks
        # them all first cannot lose to the same race again.
        self.streams: tuple[str, ...] = (stream_id,)
        super().__init__(f"stream {stream_id}: expected version {expected_version}, found {actual_version}")


@dataclass(frozen=True)
class NewEvent:
    type: str
    schema_version: int
    data: dict


@dataclass(frozen=True)
class Append:
    """New events for one stream, valid only if the stream is still at ``expected_version``
    (0 = the stream must not exist yet)."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[NewEvent]


@dataclass(frozen=True)
class RecordedEvent:
    sequence: int
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict = field(repr=False)
    metadata: dict = field(repr=False)
    recorded_at: datetime
    hash: str
    position: int | None = None


@dataclass(frozen=True)
class StoredSnapshot:
    stream_id: str
    version: int
    schema_version: int
    state: dict
    state_hash: str


class EventPayload(NamedTuple):
    """What rebuilding an aggregate needs of an event, and no more."""

    version: int
    type: str
    schema_version: int
    data: dict


@dataclass(frozen=True)
class StreamTail:
    """A stream as a load sees it: its newest snapshots (newest first) and the events
    after the newest of them (every event when there is none)."""

    snapshots: list[StoredSnapshot]
    events: list[EventPayload]
    head_hash: str = ""  # the hash of the stream's newest event; "" when it has none


def event_hash(
    prev_hash: str,
    *,
    event_id: str,
    stream_id: str,
    stream_type: str,
    version: int,
    type: str,
    schema_version: int,
    recorded_at: datetime,
    data_json: str,
    metadata_json: str,
) -> str:
    """sha256 of the previous event's hash and this event in canonical form."""
    header = canonical.dumps(
        {
            "event_id": event_id,
            "recorded_at": canonical.timestamp(recorded_at),
            "schema_version": schema_version,
            "stream_id": stream_id,
            "stream_type": stream_type,
            "type": type,
            "version": version,
        }
    )
    return canonical.sha256("\n".join((prev_hash, header, data_json, metadata_json)))


def append(appends: Sequence[Append], *, metadata: dict) -> list[RecordedEvent]:
    """Append events to one or several streams atomically.

    Raises ``ConcurrencyConflict`` (and writes nothing) if any stream is not at its
    expected version. ``metadata`` (actor, request_id, correlation_id, causation_id)
    is stored with every event.
    """
    missing = [key for key in ("actor", "request_id", "correlation_id", "causation_id") if not metadata.get(key)]
    if missing:
        raise ValueError(f"event metadata needs {', '.join(missing)}")
    metadata_json = canonical.dumps(metadata)
    recorded_at = datetime.now(UTC)
    rows: list[RecordedEvent] = []
    data_jsons: list[str] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A fixed lock order keeps two multi-stream appends from deadlocking.
            for item in sorted(appends, key=lambda a: a.stream_id):
                if not item.events:
                    continue
                try:
                    prev_hash = _claim_versions(cursor, item, recorded_at)
                except ConcurrencyConflict as conflict:
                    conflict.streams = tuple(sorted(a.stream_id for a in appends if a.events))
                    raise
                for offset, new in enumerate(item.events, start=1):
                    event_id = str(uuid.uuid4())
                    version = item.expected_version + offset
                    data_json = canonical.dumps(new.data)
                    digest = event_hash(
                        prev_hash,
                        event_id=event_id,
                        stream_id=item.stream_id,
                        stream_type=item.stream_type,
                        version=version,
                        type=new.type,
                        schema_version=new.schema_version,
                        recorded_at=recorded_at,
                        data_json=data_json,
                        metadata_json=metadata_json,
                    )
                    rows.append(
                        RecordedEvent(
                            sequence=0,
                            event_id=event_id,
                            stream_id=item.stream_id,
                            stream_type=item.stream_type,
                            version=version,
                            type=new.type,
                            schema_version=new.schema_version,
                            data=new.data,
                            metadata=metadata,
                            recorded_at=recorded_at,
                            hash=digest,
                        )
                    )
                    data_jsons.append(data_json)
                    prev_hash = digest
            sequences = _insert_events(cursor, rows, data_jsons, metadata_json)
        from finance.eventstore import feed

        # robust: the events are committed whatever happens next; a positioner that fails
        # (the database went away just after the commit) must not turn the write's 201
        # into an error. The next writer or the beat task positions them.
        transaction.on_commit(feed.advance_and_publish, robust=True)
    return [
        RecordedEvent(**{**row.__dict__, "sequence": sequence}) for row, sequence in zip(rows, sequences, strict=True)
    ]


def _claim_versions(cursor, item: Append, recorded_at: datetime) -> str:
    """Move the stream to its new version; return the hash of its current last event."""
    new_version = item.expected_version + len(item.events)
    if item.expected_version == 0:
        cursor.execute(
            "INSERT INTO finance_stream (id, type, version, snapshot_version, snapshot_schema_version, created_at)"
            " VALUES (%s, %s, %s, 0, 0, %s) ON CONFLICT (id) DO NOTHING",
            [item.stream_id, item.stream_type, new_version, _db_datetime(recorded_at)],
        )
        if cursor.rowcount != 1:
            raise ConcurrencyConflict(item.stream_id, 0, stream_version(item.stream_id))
        return GENESIS_HASH
    cursor.execute(
        "UPDATE finance_stream SET version = %s WHERE id = %s AND version = %s"
        " RETURNING (SELECT hash FROM finance_event WHERE stream_id = %s AND version = %s)",
        [new_version, item.stream_id, item.expected_version, item.stream_id, item.expected_version],
    )
    row = cursor.fetchone()
    if row is None:
        raise ConcurrencyConflict(item.stream_id, item.expected_version, stream_version(item.stream_id))
    return row[0]


def _insert_events(cursor, rows: list[RecordedEvent], data_jsons: list[str], metadata_json: str) -> list[int]:
    """Insert the rows (``data_jsons[i]`` is the canonical JSON of ``rows[i].data``, the
    very text their hashes were computed over); return their sequence numbers."""
    sequences: list[int] = []
    columns = "event_id, stream_id, stream_type, version, type, schema_version, data, metadata, recorded_at, hash"
    postgres = connection.vendor == "postgresql"
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        params: list = []
        for row, data_json in zip(chunk, data_jsons[start : start + _INSERT_CHUNK], strict=True):
            params += [
                row.event_id if postgres else row.event_id.replace("-", ""),
                row.stream_id,
                row.stream_type,
                row.version,
                row.type,
                row.schema_version,
                data_json,
                metadata_json,
                _db_datetime(row.recorded_at),
                row.hash,
            ]
        placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        cursor.execute(f"INSERT INTO finance_event ({columns}) VALUES {placeholders} RETURNING sequence", params)
        sequences += sorted(r[0] for r in cursor.fetchall())
    return sequences


def _db_datetime(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _as_datetime(value) -> datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _as_uuid(value) -> str:
    return str(uuid.UUID(str(value)))


# The columns ``recorded_event`` reads, from finance_event ``e`` and finance_feed ``f``.
EVENT_COLUMNS = (
    "e.sequence, e.event_id, e.stream_id, e.stream_type, e.version, e.type, e.schema_version,"
    " e.data, e.metadata, e.recorded_at, e.hash, f.position"
)


def recorded_event(row) -> RecordedEvent:
    """The event in a row of ``EVENT_COLUMNS``."""
    return RecordedEvent(
        sequence=row[0],
        event_id=_as_uuid(row[1]),
        stream_id=row[2],
        stream_type=row[3],
        version=row[4],
        type=row[5],
        schema_version=row[6],
        data=json.loads(row[7]),
        metadata=json.loads(row[8]),
        recorded_at=_as_datetime(row[9]),
        hash=row[10],
        position=row[11],
    )


def read_stream(stream_id: str, *, after_version: int = 0, limit: int | None = None) -> list[RecordedEvent]:
    """The stream's events with version > ``after_version``, in version order."""
    sql = (
        f"SELECT {EVENT_COLUMNS} FROM finance_event e"
        " LEFT JOIN finance_feed f ON f.event_sequence = e.sequence"
        " WHERE e.stream_id = %s AND e.version > %s ORDER BY e.version"
    )
    params: list = [stream_id, after_version]
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [recorded_event(row) for row in cursor.fetchall()]


def read_payloads(stream_id: str, *, after_version: int = 0) -> list[EventPayload]:
    """The payloads of the stream's events with version > ``after_version``, in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, type, schema_version, data FROM finance_event"
            " WHERE stream_id = %s AND version > %s ORDER BY version",
            [stream_id, after_version],
        )
        return [EventPayload(row[0], row[1], row[2], json.loads(row[3])) for row in cursor.fetchall()]


def read_tail(stream_id: str, *, snapshots: int) -> StreamTail:
    """The stream's newest ``snapshots`` snapshots and the events after the newest one,
    in one round trip: most loads need nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(
            # 'e' rows are events (data, type), 's' rows snapshots (state, state_hash).
            "SELECT 's', version, schema_version, state, state_hash FROM ("
            "  SELECT version, schema_version, state, state_hash FROM finance_snapshot WHERE stream_id = %s"
            "  ORDER BY version DESC, schema_version DESC LIMIT %s) newest"
            " UNION ALL"
            " SELECT 'e', version, schema_version, data, type FROM finance_event WHERE stream_id = %s"
            "  AND version > COALESCE((SELECT MAX(version) FROM finance_snapshot WHERE stream_id = %s), 0)"
            # 'h': the newest event's hash, which names the history up to it (hash chain).
            " UNION ALL"
            " SELECT 'h', version, 0, hash, '' FROM ("
            "  SELECT version, hash FROM finance_event WHERE stream_id = %s ORDER BY version DESC LIMIT 1) head"
            " ORDER BY 1, 2, 3",
            [stream_id, snapshots, stream_id, stream_id, stream_id],
        )
        rows = cursor.fetchall()
    found = [StoredSnapshot(stream_id, r[1], r[2], json.loads(r[3]), r[4]) for r in rows if r[0] == "s"]
    found.reverse()
    events = [EventPayload(r[1], r[4], r[2], json.loads(r[3])) for r in rows if r[0] == "e"]
    head_hash = next((r[3] for r in rows if r[0] == "h"), "")
    return StreamTail(snapshots=found, events=events, head_hash=head_hash)


def read_since(stream_id: str, *, version: int, expected_hash: str) -> tuple[list[EventPayload], str] | None:
    """The events after ``version`` and the newest event's hash, in one round trip, if
    the event at ``version`` has ``expected_hash`` (the stream has the history a cached
    state was built from); None otherwise."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, type, schema_version, data, hash FROM finance_event"
            " WHERE stream_id = %s AND version >= %s ORDER BY version",
            [stream_id, version],
        )
        rows = cursor.fetchall()
    if not rows or rows[0][0] != version or rows[0][4] != expected_hash:
        return None
    return [EventPayload(r[0], r[1], r[2], json.loads(r[3])) for r in rows[1:]], rows[-1][4]


def read_positions(after: int, limit: int) -> list[RecordedEvent]:
    """Positioned events after ``after``, in position order (see ``feed``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {EVENT_COLUMNS} FROM finance_feed f"
            " JOIN finance_event e ON e.sequence = f.event_sequence"
            " WHERE f.position > %s ORDER BY f.position LIMIT %s",
            [after, limit],
        )
        return [recorded_event(row) for row in cursor.fetchall()]


def iter_all_events(chunk_size: int = 2000) -> Iterator[RecordedEvent]:
    """Every event, ordered by stream and version, read in chunks (for verification)."""
    last_stream, last_version = "", 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {EVENT_COLUMNS} FROM finance_event e"
                " LEFT JOIN finance_feed f ON f.event_sequence = e.sequence"
                " WHERE e.stream_id > %s OR (e.stream_id = %s AND e.version > %s)"
                " ORDER BY e.stream_id, e.version LIMIT %s",
                [last_stream, last_stream, last_version, chunk_size],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield recorded_event(row)
        last_stream, last_version = rows[-1][2], rows[-1][4]


def iter_events_in_commit_order(chunk_size: int = 2000) -> Iterator[RecordedEvent]:
    """Every event by sequence: within a stream that is version order, and an event
    that depends on another one (an allocation on its payment) always comes later."""
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {EVENT_COLUMNS} FROM finance_event e"
                " LEFT JOIN finance_feed f ON f.event_sequence = e.sequence"
                " WHERE e.sequence > %s ORDER BY e.sequence LIMIT %s",
                [last, chunk_size],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield recorded_event(row)
        last = rows[-1][0]


def event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM finance_event")
        return cursor.fetchone()[0]


def stream_version(stream_id: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM finance_stream WHERE id = %s", [stream_id])
        row = cursor.fetchone()
    return row[0] if row else None


def stream_versions(stream_ids: Iterable[str]) -> dict[str, int]:
    stream_ids = list(stream_ids)
    if not stream_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, version FROM finance_stream WHERE id IN ({', '.join(['%s'] * len(stream_ids))})",
            stream_ids,
        )
        return dict(cursor.fetchall())


def lock_streams_shared(stream_ids: Sequence[str]) -> None:
    """Hold a shared lock on the streams' rows until commit (Postgres; SQLite already
    serialises writers): appends to them wait, and readers of them do not."""
    if connection.vendor != "postgresql" or not stream_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM finance_stream WHERE id IN ({', '.join(['%s'] * len(stream_ids))}) ORDER BY id FOR SHARE",
            list(stream_ids),
        )


def lock_streams_exclusive(stream_ids: Sequence[str]) -> None:
    """Block appends to (and locks on) the streams until commit, taking the rows in id
    order as appends do (Postgres; SQLite already serialises writers)."""
    if connection.vendor != "postgresql" or not stream_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM finance_stream WHERE id IN ({', '.join(['%s'] * len(stream_ids))}) ORDER BY id FOR UPDATE",
            list(stream_ids),
        )


def lock_stream_exclusive(stream_id: str) -> None:
    """Block appends to (and shared locks on) the stream until commit (Postgres)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM finance_stream WHERE id = %s FOR UPDATE", [stream_id])


# --- snapshots ------------------------------------------------------------------------


def snapshots_of(stream_id: str, *, limit: int) -> list[StoredSnapshot]:
    """The stream's newest snapshots, newest first, whatever their schema version."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, schema_version, state, state_hash FROM finance_snapshot"
            " WHERE stream_id = %s ORDER BY version DESC, schema_version DESC LIMIT %s",
            [stream_id, limit],
        )
        return [StoredSnapshot(stream_id, r[0], r[1], json.loads(r[2]), r[3]) for r in cursor.fetchall()]


def write_snapshot(stream_id: str, *, version: int, schema_version: int, state: dict) -> bool:
    """Store a snapshot (idempotent: the same one twice is a no-op). True if written."""
    state_json = canonical.dumps(state)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_snapshot (stream_id, version, schema_version, state, state_hash, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (stream_id, version, schema_version) DO NOTHING",
            [
                stream_id,
                version,
                schema_version,
                state_json,
                canonical.sha256(state_json),
                _db_datetime(datetime.now(UTC)),
            ],
        )
        written = cursor.rowcount == 1
        cursor.execute(
            "UPDATE finance_stream SET snapshot_version = %s, snapshot_schema_version = %s"
            " WHERE id = %s AND (snapshot_version < %s OR snapshot_schema_version <> %s)",
            [version, schema_version, stream_id, version, schema_version],
        )
        # Snapshots are a cache: the newest few are all a load ever looks at.
        cursor.execute(
            "DELETE FROM finance_snapshot WHERE stream_id = %s AND version < ("
            " SELECT MIN(version) FROM (SELECT version FROM finance_snapshot WHERE stream_id = %s"
            " ORDER BY version DESC LIMIT %s) newest)",
            [stream_id, stream_id, SNAPSHOTS_KEPT],
        )
    return written


def snapshot_is_intact(snapshot: StoredSnapshot) -> bool:
    return canonical.sha256(canonical.dumps(snapshot.state)) == snapshot.state_hash


def streams_due_for_snapshot(
    *, every: int, schema_versions: dict[str, int], limit: int = 1000
) -> list[tuple[str, str]]:
    """(stream id, type) of streams with at least ``every`` events past their last
    snapshot, or whose last snapshot has an outdated schema version."""
    if not schema_versions:
        return []
    conditions = " OR ".join(
        ["(type = %s AND snapshot_version > 0 AND snapshot_schema_version <> %s)"] * len(schema_versions)
    )
    params: list = [every]
    for stream_type, schema_version in schema_versions.items():
        params += [stream_type, schema_version]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, type FROM finance_stream WHERE version - snapshot_version >= %s OR {conditions}"
            " ORDER BY version - snapshot_version DESC LIMIT %s",
            params + [limit],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def all_stream_ids() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, type FROM finance_stream ORDER BY id")
        return [(row[0], row[1]) for row in cursor.fetchall()]


def max_snapshot_lag() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(version - snapshot_version), 0) FROM finance_stream")
        return cursor.fetchone()[0]
