"""One JSON log line per request, written while the request's trace span and request id
are still current, so a slow or failed call can be found by any of them."""

import logging
import time

logger = logging.getLogger("finance.access")

# Probes and scrapes arrive every few seconds and would drown the lines that matter.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class AccessLogMiddleware:
    """Logs method, path, status and duration of every request but the probes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path not in _QUIET_PATHS:
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            logger.log(
                level,
                "request finished",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        return response
