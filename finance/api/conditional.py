"""Optimistic concurrency over HTTP: ``ETag: "<version>"`` out, ``If-Match`` in."""

import re

from rest_framework.exceptions import ValidationError

_ENTITY_TAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def if_match(request) -> int | None:
    """The version the client says it last saw, or None (no header, or ``*``)."""
    value = request.headers.get("If-Match")
    if value is None or value.strip() == "*":
        return None
    match = _ENTITY_TAG.match(value)
    if not match:
        raise ValidationError({"If-Match": ['must be an entity tag such as "3"']})
    return int(match.group(1))


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}
