"""GET /metrics: Prometheus text for the whole pod.

Under gunicorn every worker process writes its samples to ``PROMETHEUS_MULTIPROC_DIR``
and whichever worker answers the scrape adds them all up, so one scrape sees the pod.

When ``METRICS_PORT`` is set, /metrics answers only on that port (which no ingress
routes to) and is a 404 on every other: the public entry point never shows it.
"""

import os

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from config.service_metrics import ServiceStateCollector

_service_state = CollectorRegistry(auto_describe=False)
_service_state.register(ServiceStateCollector())


def _arrival_port(request) -> int | None:
    """The local port the request came in on. gunicorn's sync workers take SERVER_PORT
    from the Host header, which a client chooses, so their socket is asked instead."""
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        return sock.getsockname()[1]
    try:
        return int(request.META.get("SERVER_PORT", ""))
    except ValueError:
        return None


def _process_samples() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@never_cache
def metrics(request):
    """Every process's metrics plus the scrape-time figures of config.service_metrics."""
    if settings.METRICS_PORT and _arrival_port(request) != settings.METRICS_PORT:
        raise Http404("metrics are served on the metrics port")
    return HttpResponse(_process_samples() + generate_latest(_service_state), content_type=CONTENT_TYPE_LATEST)
