"""``python -m loadtest.chaos`` (``make chaos``): every chaos scenario, one after another,
each in a process of its own with a time limit; then a table of what happened, printed and
written into docs/reliability.md (``--no-write`` to only print). Exit status 1 if any
scenario failed. Every scenario runs its own Postgres cluster, Redis and gunicorn on
loopback ports and stops them when it ends, passes, fails or is timed out."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from loadtest.chaos import report
from loadtest.chaos.scenario import SCENARIOS
from loadtest.drills.server import ROOT

TIMEOUT_SECONDS = {
    "contention": 240,
    "crash": 240,
    "redis_down": 180,
    "redis_frozen": 180,
    "postgres_restart": 180,
    "tamper": 120,
}
GRACE_SECONDS = 30


def run_scenario(name: str) -> tuple[dict | None, int, str]:
    """(its JSON report or None, exit code, error) — killed after its time limit."""
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "loadtest.chaos.scenario", name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to stop everything it started
    )
    try:
        stdout, _ = process.communicate(timeout=TIMEOUT_SECONDS[name])
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            stdout, _ = process.communicate(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        return None, -1, f"timed out after {TIMEOUT_SECONDS[name]} s"
    try:
        return json.loads(stdout), process.returncode, ""
    except json.JSONDecodeError:
        return None, process.returncode, f"exit {process.returncode}, no report"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/reliability.md alone")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only this scenario (repeatable)")
    options = parser.parse_args()
    started = time.monotonic()
    rows, failed = [], []
    for name in options.only or SCENARIOS:
        print(f"== {name}", flush=True)  # noqa: T201 - progress
        result, code, error = run_scenario(name)
        print(json.dumps(result, indent=2) if result else error, flush=True)  # noqa: T201
        rows.append(report.row(name, result, code == 0, error))
        if code != 0:
            failed.append(name)
    text = report.block(rows, "make chaos", time.monotonic() - started)
    print(text)  # noqa: T201 - the report
    if not options.no_write and not options.only:
        report.write(text)
        print(f"written to {report.DOC.relative_to(ROOT)}")  # noqa: T201
    if failed:
        print(f"FAILED: {', '.join(failed)}")  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
