"""Drives ``loadtest.peer_eventsourcing`` in its own virtualenv and process."""

import json
import os
import subprocess
from pathlib import Path

from loadtest.bench_database import BenchDatabase

REPO_ROOT = Path(__file__).resolve().parent.parent


class PeerProcess:
    """One long-lived peer process; ``call(op, **arguments)`` returns its JSON answer."""

    def __init__(self, python: str, database: BenchDatabase):
        if not Path(python).exists():
            raise RuntimeError(f"no Python for the peer at {python!r}: run `make bench`, which creates .venv-bench")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "BENCH_PG_DBNAME": database.name,
            "BENCH_PG_HOST": database.host,
            "BENCH_PG_PORT": str(database.port),
            "BENCH_PG_USER": database.user,
            "BENCH_PG_PASSWORD": database.password,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [python, "-m", "loadtest.peer_eventsourcing"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, op: str, **arguments):
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the peer process stopped (exit code {self.process.wait()}) during {op}")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)
