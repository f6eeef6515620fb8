"""Re-walk every stream's hash chain: the first event whose hash, version or stream
head does not match what was written is reported."""

from collections.abc import Callable
from dataclasses import dataclass

from finance.eventstore import canonical, store


@dataclass(frozen=True)
class BadEvent:
    event_id: str
    stream_id: str
    version: int
    sequence: int
    reason: str

    def __str__(self) -> str:
        return (
            f"event {self.event_id} (stream {self.stream_id}, version {self.version}, "
            f"sequence {self.sequence}): {self.reason}"
        )


def verify_chains(progress: Callable[[int], None] | None = None) -> tuple[int, BadEvent | None]:
    """(events checked, first bad event or None)."""
    heads = dict(store.stream_versions(sid for sid, _ in store.all_stream_ids()))
    checked = 0
    stream_id, prev_hash, expected_version = None, store.GENESIS_HASH, 1
    for event in store.iter_all_events():
        if event.stream_id != stream_id:
            if stream_id is not None and heads.get(stream_id) != expected_version - 1:
                return checked, _stream_head_mismatch(stream_id, heads.get(stream_id), expected_version - 1)
            stream_id, prev_hash, expected_version = event.stream_id, store.GENESIS_HASH, 1
        if event.version != expected_version:
            return checked, _bad(event, f"version {event.version} where {expected_version} was expected")
        recomputed = store.event_hash(
            prev_hash,
            event_id=event.event_id,
            stream_id=event.stream_id,
            stream_type=event.stream_type,
            version=event.version,
            type=event.type,
            schema_version=event.schema_version,
            recorded_at=event.recorded_at,
            data_json=canonical.dumps(event.data),
            metadata_json=canonical.dumps(event.metadata),
        )
        if recomputed != event.hash:
            return checked, _bad(event, "hash does not match its content and the previous event")
        prev_hash, expected_version = event.hash, expected_version + 1
        checked += 1
        if progress:
            progress(1)
    if stream_id is not None and heads.get(stream_id) != expected_version - 1:
        return checked, _stream_head_mismatch(stream_id, heads.get(stream_id), expected_version - 1)
    return checked, None


def _bad(event: store.RecordedEvent, reason: str) -> BadEvent:
    return BadEvent(event.event_id, event.stream_id, event.version, event.sequence, reason)


def _stream_head_mismatch(stream_id: str, head: int | None, last: int) -> BadEvent:
    return BadEvent("-", stream_id, last, 0, f"stream is at version {head} but its last event is {last}")
