"""Every error as application/problem+json (RFC 9457): {type, title, status, detail, errors}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response

from finance.domain.errors import DomainError, NotFound, PreconditionFailed, RuleViolation, StateConflict
from finance.eventstore.store import ConcurrencyConflict

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


class IdempotencyMismatch(Exception):
    """The same Idempotency-Key came with a different request (422)."""


def problem_body(status_code: int, title: str, detail: str, slug: str, errors: list | None = None) -> dict:
    return {
        "type": f"urn:problem:finance:{slug}",
        "title": title,
        "status": status_code,
        "detail": detail,
        "errors": errors or [],
    }


def problem(status_code: int, title: str, detail: str, slug: str, errors: list | None = None, headers=None) -> Response:
    return Response(
        problem_body(status_code, title, detail, slug, errors),
        status=status_code,
        content_type=CONTENT_TYPE,
        headers=headers,
    )


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested validation errors as [{field, message}] with dotted/indexed paths."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            if isinstance(key, int):  # DRF reports list items as {index: errors}
                out += _flatten(value, f"{prefix}[{key}]")
                continue
            field = key if key != "non_field_errors" else ""
            path = f"{prefix}.{field}" if prefix and field else (prefix or field)
            out += _flatten(value, path)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out += _flatten(item, f"{prefix}[{index}]")
        return out
    return [{"field": prefix, "message": str(detail)}]


def exception_handler(exc, context):
    if isinstance(exc, RuleViolation):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return problem(422, exc.title, exc.detail, "rule-violation", errors)
    if isinstance(exc, StateConflict):
        return problem(409, exc.title, exc.detail, "state-conflict")
    if isinstance(exc, (NotFound, Http404, exceptions.NotFound)):
        detail = exc.detail if isinstance(exc, (NotFound, exceptions.NotFound)) else "Not found."
        return problem(404, "Not found", str(detail), "not-found")
    if isinstance(exc, PreconditionFailed):
        return problem(412, "Precondition failed", exc.detail, "precondition-failed")
    if isinstance(exc, DomainError):
        return problem(422, exc.title, exc.detail, "domain-error")
    if isinstance(exc, IdempotencyMismatch):
        return problem(
            422,
            "Idempotency key reused",
            str(exc),
            "idempotency-key-reused",
            [{"field": "Idempotency-Key", "message": str(exc)}],
        )
    if isinstance(exc, ConcurrencyConflict):
        return problem(409, "Concurrent update", "the resource kept changing; retry the request", "concurrent-update")
    if isinstance(exc, RequestDataTooBig):
        return problem(413, "Payload too large", "the request body is larger than the service accepts", "too-large")
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:5])
        return problem(400, "Malformed request", detail or "the request is not valid", "malformed-request", errors)
    if isinstance(exc, exceptions.ParseError):
        return problem(400, "Malformed request", str(exc.detail), "malformed-request")
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return problem(
            401, "Unauthorized", str(exc.detail), "unauthorized", headers={"WWW-Authenticate": 'Token realm="api"'}
        )
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        detail = getattr(exc, "detail", "You do not have permission to perform this action.")
        return problem(403, "Forbidden", str(detail), "forbidden")
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return problem(429, "Too many requests", f"retry in {wait} s", "throttled", headers={"Retry-After": str(wait)})
    if isinstance(exc, exceptions.APIException):
        return problem(exc.status_code, str(exc.default_detail), str(exc.detail), "http-error")
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable", exc_info=True)
        return problem(
            503,
            "Service unavailable",
            "the database is not answering; retry shortly",
            "unavailable",
            headers={"Retry-After": "2"},
        )
    if isinstance(exc, DatabaseError):
        logger.error("database error", exc_info=True)
        return problem(
            503,
            "Service unavailable",
            "the request could not be completed; retry",
            "unavailable",
            headers={"Retry-After": "1"},
        )
    return None


def json_problem(request, status_code: int, title: str, detail: str, slug: str) -> JsonResponse:
    return JsonResponse(problem_body(status_code, title, detail, slug), status=status_code, content_type=CONTENT_TYPE)


def _for_people(request) -> bool:
    """The admin is read by people in a browser: it keeps Django's HTML error pages."""
    return request.path.startswith("/admin/")


def handler404(request, exception=None):
    if _for_people(request):
        return defaults.page_not_found(request, exception)
    return json_problem(request, 404, "Not found", f"nothing at {request.path}", "not-found")


def handler500(request):
    if _for_people(request):
        return defaults.server_error(request)
    return json_problem(request, 500, "Internal error", "the service failed; the request id names it", "internal")


def handler400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return json_problem(request, 413, "Payload too large", "the request body is too large", "too-large")
    if _for_people(request):
        return defaults.bad_request(request, exception)
    return json_problem(request, 400, "Bad request", "the request could not be understood", "bad-request")


def handler403(request, exception=None):
    if _for_people(request):
        return defaults.permission_denied(request, exception)
    return json_problem(request, 403, "Forbidden", "you may not do this", "forbidden")
