"""``Idempotency-Key`` on POST: the same key and body replay the first response (with
``Idempotent-Replayed: true``) and cause no new event; a different body is refused (422);
two requests racing with one key execute once.

With or without a key, the handler's write and the response it reads back share one
transaction: read after commit, a response could show (and its ETag name) the state of a
concurrent writer that committed in between, and a client sending that ETag back as
If-Match would overwrite a change it never saw.

The stored response is written in the transaction of the events it describes: either
both exist or neither. A racing twin blocks on the key's unique index until the first
commits, then replays it; if the first fails, the twin runs.
"""

import hashlib
import json
import re
from functools import wraps

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from finance import metrics
from finance.api.problems import IdempotencyMismatch
from finance.domain.errors import StateConflict
from finance.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("ETag", "Location")
_WAIT_FOR_TWIN = "10s"
LOCK_NOT_AVAILABLE = "55P03"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyMismatch(
            f"key {record.key!r} was first used with a different request; use a new key for a new request"
        )
    metrics.IDEMPOTENT_REPLAYS.inc()
    headers = json.loads(record.response_headers)
    headers["Idempotent-Replayed"] = "true"
    return Response(json.loads(record.response_body), status=record.status_code, headers=headers)


def idempotent(handler):
    """Decorate a DRF view's ``post``."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            with transaction.atomic():
                return handler(view, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise ValidationError({HEADER: ["must be 1-255 printable ASCII characters"]})
        fingerprint = _fingerprint(request)
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{_WAIT_FOR_TWIN}'")
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=0,
                        response_body="",
                        created_at=timezone.now(),
                    )
            except IntegrityError:
                # A twin with the same key committed first: answer as it did.
                return _replay(IdempotencyRecord.objects.get(user=request.user, key=key), fingerprint)
            except OperationalError as error:
                if getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
                    raise StateConflict(f"a request with {HEADER} {key!r} is still in flight; retry shortly") from None
                raise
            response = handler(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = JSONRenderer().render(response.data).decode()
            record.response_headers = json.dumps(
                {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
            )
            record.save(update_fields=["status_code", "response_body", "response_headers"])
            return response

    return wrapper
