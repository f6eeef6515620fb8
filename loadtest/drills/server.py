"""The service as production runs it, on loopback: gunicorn with config/gunicorn.conf.py
and uvicorn workers, production settings (DEBUG off, secure cookies, SSL redirect), a
private metrics directory and free ports."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# The ingress terminates TLS and says so; the drills send what it would send.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """Live (not zombie) child processes of ``pid``, read from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            children.add(int(stat.parent.name))
    return children


def service_environment(database_url: str, redis_url: str = "", **overrides: str) -> dict[str, str]:
    """What the ConfigMap and Secret give a pod, pointed at loopback services. The Redis
    database is emptied first (see ``empty_redis``)."""
    empty_redis(redis_url)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DEBUG", "GUNICORN_"))}
    environment.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS=HOST,
        LOG_LEVEL="WARNING",
        DB_CONNECT_TIMEOUT="2",
    )
    environment.update(overrides)
    return environment


def empty_redis(redis_url: str) -> None:
    """Empty the drill's Redis database. Its cache and queues belong to the drill's own
    database: entries left by another database (an earlier drill, the test suite) would be
    read as this one's. So REDIS_URL must name a Redis database reserved for drills."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        try:
            client.flushdb()
        finally:
            client.close()


def manage(environment: dict[str, str], *args: str) -> str:
    """Run a management command with the service's environment; returns its stdout."""
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


@dataclass
class Gunicorn:
    """A running gunicorn master; ``stop()`` (or leaving the ``with`` block) ends it."""

    environment: dict[str, str]
    workers: int = 2
    graceful_timeout: int = 10
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    metrics_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="drill-metrics-")))
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_timeout: float = 60.0) -> "Gunicorn":
        log = tempfile.NamedTemporaryFile(prefix="drill-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.log_path = Path(log.name)
        environment = {
            **self.environment,
            "GUNICORN_BIND": f"{HOST}:{self.port}",
            "METRICS_PORT": str(self.metrics_port),
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_GRACEFUL_TIMEOUT": str(self.graceful_timeout),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.asgi:application"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_until_serving(ready_timeout)
        return self

    def wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.log()[-2000:]}")
            if len(self.worker_pids()) == self.workers:
                try:
                    if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not serve within {timeout} s: {self.log()[-2000:]}")

    def worker_pids(self) -> set[int]:
        """The master's live children."""
        return children_of(self.process.pid)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def rolling_restart(self, timeout: float = 60.0) -> float:
        """HUP: new workers start, old ones finish what they hold and exit. Returns the
        seconds until every worker had been replaced and the new ones answer."""
        old = self.worker_pids()
        started = time.monotonic()
        self.signal(signal.SIGHUP)
        deadline = started + timeout
        while time.monotonic() < deadline:
            current = self.worker_pids()
            if len(current) == self.workers and not current & old:
                # Replaced; a health check answered means the new workers accept again.
                httpx.get(f"{self.base_url}/healthz", timeout=timeout).raise_for_status()
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"workers {old} were not replaced within {timeout} s")

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.graceful_timeout + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
