"""The public shape of a recorded event (API, feed and SSE)."""

from finance.eventstore import canonical
from finance.eventstore.store import RecordedEvent


def aggregate_id(stream_id: str, stream_type: str) -> str:
    prefix = f"{stream_type}-"
    return stream_id[len(prefix) :] if stream_id.startswith(prefix) else stream_id


def event_dict(event: RecordedEvent) -> dict:
    return {
        "position": event.position,
        "event_id": event.event_id,
        "aggregate": event.stream_type,
        "aggregate_id": aggregate_id(event.stream_id, event.stream_type),
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": {
            key: event.metadata.get(key, "") for key in ("actor", "request_id", "correlation_id", "causation_id")
        },
        "recorded_at": canonical.timestamp(event.recorded_at),
    }


def event_json(event: RecordedEvent) -> str:
    return canonical.dumps(event_dict(event))
