"""Run one chaos scenario as its own process: ``python -m loadtest.chaos.scenario NAME``.
SIGTERM ends it like an exception, so its ``finally`` blocks stop the servers it started
(gunicorn, Redis, the private Postgres cluster) when the runner's timeout strikes."""

import importlib
import json
import signal
import sys

SCENARIOS = ("contention", "crash", "redis_down", "redis_frozen", "postgres_restart", "tamper")


def _terminated(signum, frame):
    raise SystemExit(f"scenario stopped by signal {signum}")


def finish(result: dict, passed: bool) -> int:
    """Print a scenario's report (JSON) and return its exit status."""
    print(json.dumps(result, indent=2))  # noqa: T201 - the scenario's report
    return 0 if passed else 1


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in SCENARIOS:
        sys.stderr.write(f"usage: python -m loadtest.chaos.scenario {{{'|'.join(SCENARIOS)}}}\n")
        return 2
    signal.signal(signal.SIGTERM, _terminated)
    return importlib.import_module(f"loadtest.chaos.{name}").main()


if __name__ == "__main__":
    sys.exit(main())
