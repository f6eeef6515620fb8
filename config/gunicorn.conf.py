"""gunicorn settings for production: ``gunicorn --config config/gunicorn.conf.py config.asgi:application``.

Every knob comes from the environment, so the same image runs on a laptop, in a drill and
in Kubernetes. The workers are uvicorn's ASGI workers because the SSE stream
(``/api/v1/events/stream/``) holds connections open: a synchronous worker would be tied up
by each listening client.

Metrics: every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR``; the master
serves the sum of all of them on ``METRICS_PORT`` (9100), a port the public ingress never
routes to. The master outlives its workers, so a scrape neither depends on a busy worker
nor loses the counts of a worker that was recycled.
"""

import os
import shutil
import tempfile
from pathlib import Path

# --- Where and how many ----------------------------------------------------------------
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]  # noqa: S104 - a container listens on every interface
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn_worker.UvicornWorker"

# --- Timeouts --------------------------------------------------------------------------
# A worker that has not checked in for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM or a rolling restart (HUP), workers stop accepting and get this long to
# finish what they hold. Kubernetes' terminationGracePeriodSeconds must exceed the
# preStop sleep plus this.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the ingress controller's upstream keep-alive, so the proxy, not gunicorn,
# closes idle connections and never sends a request down a socket being closed.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))

# Recycle workers now and then so slow leaks never reach the memory limit; the jitter
# keeps them from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))

# The heartbeat file lives in memory: a read-only root filesystem has no writable /tmp
# on disk, and a disk-backed heartbeat can stall the worker under I/O pressure.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")  # noqa: S108 - a tmpfs, on purpose

# The ingress controller terminates TLS and sets X-Forwarded-*; only it can reach the
# pods (NetworkPolicy), so its headers are trusted.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# The runtime control socket would need a writable home directory; restarts go through
# signals (HUP, TERM) and Kubernetes instead.
control_socket_disable = True

# --- Logs ------------------------------------------------------------------------------
# Errors on stderr; request logs come from the application as JSON, so gunicorn's own
# access log stays off unless asked for.
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None

# --- Prometheus multiprocess mode ------------------------------------------------------
# Set before any worker imports prometheus_client, so every worker writes to the shared
# directory instead of keeping its samples private.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "finance-prometheus"))
# Set for the workers too, so that Django's own /metrics answers 404 on the public port.
METRICS_PORT = int(os.environ.setdefault("METRICS_PORT", "9100"))


def empty_multiprocess_dir(path: str) -> None:
    """Make ``path`` exist and hold nothing, keeping the directory itself (in Kubernetes
    it is a mounted emptyDir that cannot be removed)."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def on_starting(server):
    # Files left by an earlier master would be summed into the new one's counters.
    empty_multiprocess_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def when_ready(server):
    if METRICS_PORT <= 0:
        return
    import django
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    # The figures measured at scrape time (dependencies up, snapshot backlog, queue
    # lengths, verification results) need Django's settings and database; see
    # config/service_metrics.py for why forking workers stays safe.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from config.service_metrics import ServiceStateCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(ServiceStateCollector(close_connections=True))
    start_http_server(METRICS_PORT, registry=registry)
    server.log.info("metrics served on port %s", METRICS_PORT)


def post_fork(server, worker):
    from config.telemetry import init_tracing

    init_tracing()
    exit_when_orphaned(worker.ppid)


ORPHAN_CHECK_SECONDS = 1.0


def exit_when_orphaned(master_pid: int) -> None:
    """Stop this worker gracefully once its master is gone. gunicorn's own workers check
    this; uvicorn's do not, and after a kill -9 of the master they kept serving,
    unsupervised, and held the port so that a new master could not bind it
    (docs/reliability.md, Chaos)."""
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == master_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def worker_exit(server, worker):
    from config.database_pools import close_pools

    # In the worker, once it has stopped serving (recycled, HUP, SIGTERM).
    close_pools()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    # Gauges of a dead worker must not linger in the sum ("live" modes drop them).
    multiprocess.mark_process_dead(worker.pid)
