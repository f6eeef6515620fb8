"""Canonical JSON: sorted keys, no whitespace, decimals as strings, timestamps in UTC.

The same value always serialises to the same bytes, which is what the hash chain and
the snapshot hashes are computed over.
"""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetimes are not canonical")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


class _NoFloatEncoder(json.JSONEncoder):
    def iterencode(self, o, _one_shot=False):
        _reject_floats(o)
        return super().iterencode(o, _one_shot)


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in events: use Decimal")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _reject_floats(item)


# One encoder for every call: building one per call cost more than most encodings.
# It keeps no state between calls, so threads can share it.
_ENCODER = _NoFloatEncoder(default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Serialise to canonical JSON; floats and naive datetimes are refused."""
    return _ENCODER.encode(value)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def timestamp(value: datetime) -> str:
    return _default(value)
