"""A private, throwaway Postgres cluster on a loopback port, so a drill can stop and
start a database server without touching anyone else's."""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from loadtest.drills.server import HOST, free_port


def postgres_bin() -> Path:
    """The directory of initdb and pg_ctl: Debian keeps them out of PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    found = shutil.which("pg_ctl")
    if candidates:
        return candidates[0].parent
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("Postgres server binaries (initdb, pg_ctl) not found: apt-get install postgresql")


def connection_count(database_url: str, database: str) -> int:
    """Backends connected to ``database`` right now."""
    connection = psycopg.connect(database_url, connect_timeout=2)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
            return cursor.fetchone()[0]
    finally:
        connection.close()


@dataclass
class PrivateCluster:
    """initdb into a temporary directory, served on a free port; ``stop()`` removes it."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="drill-postgres-")))
    bin: Path = field(default_factory=postgres_bin)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 120) -> None:
        # initdb and postgres refuse to run as root; CI runs as root.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout
        )

    def create(self) -> "PrivateCluster":
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres")
        self._run(
            str(self.bin / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--no-sync",
        )
        return self.start()

    def start(self) -> "PrivateCluster":
        options = f"-c listen_addresses={HOST} -p {self.port} -k {self.directory} -c fsync=off"
        # The server's output goes to a log file: pg_ctl's own pipes would stay open.
        log = str(self.directory / "postgres.log")
        self._run(
            str(self.bin / "pg_ctl"), "--pgdata", str(self.data), "--log", log, "--options", options, "--wait", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "--pgdata", str(self.data), "--mode", mode, "--wait", "stop")

    def wait_until_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError(f"the private Postgres on port {self.port} did not come back within {timeout} s")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "PrivateCluster":
        return self.create()

    def __exit__(self, *exc) -> None:
        self.destroy()
