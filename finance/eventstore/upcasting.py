"""Upcasters turn stored payloads of an older schema version into the current shape on
read, so old streams and old snapshots keep loading after the code moves on.

An upcaster is registered for (event type, from version) and returns the payload of
version + 1; they chain until the current version is reached.
"""

from collections.abc import Callable

Upcaster = Callable[[dict], dict]

_event_upcasters: dict[tuple[str, int], Upcaster] = {}
_snapshot_upcasters: dict[tuple[str, int], Upcaster] = {}


def event_upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        _event_upcasters[(event_type, from_version)] = fn
        return fn

    return register


def snapshot_upcaster(aggregate_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        _snapshot_upcasters[(aggregate_type, from_version)] = fn
        return fn

    return register


def _upcast(table: dict, name: str, data: dict, version: int, target: int) -> dict | None:
    if version > target:  # written by newer code: this code cannot know its shape
        return None
    while version < target:
        step = table.get((name, version))
        if step is None:
            return None
        data = step(data)
        version += 1
    return data


def upcast_event(event_type: str, data: dict, version: int, target: int) -> dict:
    """The payload in the ``target`` schema; raises LookupError if a step is missing."""
    upcast = _upcast(_event_upcasters, event_type, data, version, target)
    if upcast is None:
        raise LookupError(f"no upcaster for {event_type} from schema version {version} to {target}")
    return upcast


def upcast_snapshot(aggregate_type: str, state: dict, version: int, target: int) -> dict | None:
    """The state in the ``target`` schema, or None when it cannot be upcast (the snapshot
    is then ignored and the stream replayed)."""
    return _upcast(_snapshot_upcasters, aggregate_type, state, version, target)
