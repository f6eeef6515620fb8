"""gunicorn hooks for the integration test, the same as production needs: tracing starts
in each worker after the fork, and a dead worker's multiprocess metric files are marked
so its live gauges disappear (``gunicorn -c tests/observability/gunicorn_test_hooks.py``)."""

from prometheus_client import multiprocess


def post_fork(server, worker):
    from config import telemetry

    telemetry.init_tracing()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
