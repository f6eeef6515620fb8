"""Who is asking, and under which request: carried in context variables so that event
metadata and log lines pick them up without threading them through every call."""

import contextvars
import logging
import re
import uuid
from dataclasses import dataclass

_HEADER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    correlation_id: str
    causation_id: str
    user: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "finance_request_context", default=None
)


def new_context(
    *, user: str = "", request_id: str = "", correlation_id: str = "", causation_id: str = ""
) -> RequestContext:
    request_id = request_id or str(uuid.uuid4())
    return RequestContext(
        request_id=request_id,
        correlation_id=correlation_id or request_id,
        causation_id=causation_id or request_id,
        user=user,
    )


def current() -> RequestContext:
    """The context of the running request or task; a fresh one (new ids) outside both."""
    return _current.get() or new_context()


def activate(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


def _header_id(request, name: str) -> str:
    value = request.headers.get(name, "")
    return value if _HEADER_ID.match(value) else ""


class RequestContextMiddleware:
    """Takes X-Request-ID / X-Correlation-ID from the caller (or makes one) and echoes
    the request id back, so a client can quote it in a support ticket."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = new_context(
            request_id=_header_id(request, "X-Request-ID"),
            correlation_id=_header_id(request, "X-Correlation-ID"),
        )
        request.request_id = context.request_id
        token = activate(context)
        try:
            response = self.get_response(request)
        finally:
            deactivate(token)
        response["X-Request-ID"] = context.request_id
        return response


def set_user(username: str) -> None:
    """Called once authentication knows who the caller is."""
    context = _current.get()
    if context is not None and context.user != username:
        _current.set(RequestContext(context.request_id, context.correlation_id, context.causation_id, username))


class LogContextFilter(logging.Filter):
    """Adds request id, user, and the OpenTelemetry trace and span ids to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        record.request_id = context.request_id if context else ""
        record.user = context.user if context else ""
        record.trace_id, record.span_id = _trace_ids()
        return True


def _trace_ids() -> tuple[str, str]:
    try:
        from opentelemetry import trace
    except ImportError:
        return "", ""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return "", ""
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
