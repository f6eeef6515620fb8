"""A change made in the admin reaches every worker process within two seconds, and every
worker gives a subject the same answer. Two real servers, each its own process, on the
test database (and the test Redis, where configured)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from rollout import bucketing
from rollout.decisions import VISITOR_COOKIE, sign_visitor
from rollout.models import Flag
from tests.rollout.admin_forms import change_url, form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plain_static_files"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BOUND_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_workers(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"worker-{port}.log").open("wb") for port in ports]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, "worker exited; see its log in the test's tmp_path"
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "worker did not start"
                time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
        for log in logs:
            log.close()


def visitor_cookie(visitor: str) -> dict:
    return {VISITOR_COOKIE: sign_visitor(visitor)}


def rollout_header(url: str, visitor: str) -> str:
    return httpx.get(f"{url}/healthz", cookies=visitor_cookie(visitor), timeout=2).headers["X-Rollout"]


def test_an_admin_change_reaches_both_workers_within_two_seconds(two_workers, operator_client, make_flag):
    flag = make_flag("beta", percentage="0")
    salt = Flag.objects.get(name="beta").salt
    inside = next(v for v in (f"visitor-{n}" for n in range(1000)) if bucketing.bucket(salt, f"anon:{v}") < 5000)
    assert [rollout_header(url, inside) for url in two_workers] == ["", ""]  # both hold version 1

    # when an operator sets 50 % in the admin
    data = form_data(operator_client, change_url(flag), enabled="on", percentage="50", reason="half", seen_version="1")
    assert operator_client.post(change_url(flag), data, secure=True).status_code == 302
    committed = time.monotonic()

    # then each worker shows it within the bound
    seen_after = {}
    while len(seen_after) < len(two_workers) and time.monotonic() - committed < BOUND_SECONDS + 3:
        for url in two_workers:
            if url not in seen_after and rollout_header(url, inside) == "beta":
                seen_after[url] = time.monotonic() - committed
        time.sleep(0.05)
    assert set(seen_after) == set(two_workers)
    assert max(seen_after.values()) <= BOUND_SECONDS

    # and both workers give each visitor the same answer
    visitors = [f"sticky-{n}" for n in range(40)]
    answers = [[rollout_header(url, v) for v in visitors] for url in two_workers]
    assert answers[0] == answers[1]
    assert answers[0] == ["beta" if bucketing.bucket(salt, f"anon:{v}") < 5000 else "" for v in visitors]
