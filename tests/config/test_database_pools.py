"""A process forked from one that holds a connection pool (the gunicorn master, a Celery
worker's main process) must open its own, and never use or close the parent's."""

import json
import os
import select
import signal

import pytest
from django.db import connection

from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _run_in_child(function, timeout: float = 30.0) -> dict:
    """Fork; run ``function`` in the child and return what it returned (a dict, as JSON
    through a pipe). The child never returns into the test runner."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read)
            os.write(write, json.dumps(function()).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"the child did not answer within {timeout} s")
        answer = b""
        while chunk := os.read(read, 65536):
            answer += chunk
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return json.loads(answer)


def _backends_of_this_database() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def _child_queries_then_closes_its_pools() -> dict:
    inherited = connection.connection is not None
    backend = _backend_pid()
    # What Celery's Django fixup does in a new pool process (worker_process_init).
    connection.close()
    connection.close_pool()
    return {"backend": backend, "connection_inherited": inherited}


def test_a_forked_child_neither_uses_nor_closes_its_parents_pooled_connections():
    if connection.vendor != "postgresql" or connection.pool is None:
        pytest.skip("connection pools exist on Postgres only")
    # given: the forking thread holds a connection, and another waits idle in the pool
    held = _backend_pid()
    run_in_threads(1, lambda index: _backend_pid())
    pool = connection.pool
    before_fork = _backends_of_this_database()

    # when
    child = _run_in_child(_child_queries_then_closes_its_pools)

    # then: the child connected on its own ...
    assert child["connection_inherited"] is False
    assert child["backend"] not in before_fork
    # ... and the parent's connections still work: the one it holds, the idle ones
    assert _backend_pid() == held
    pool.check()
    assert pool.get_stats().get("connections_lost", 0) == 0
    assert connection.pool is pool
