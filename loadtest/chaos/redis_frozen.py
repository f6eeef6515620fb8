"""Chaos: Redis hung rather than stopped (SIGSTOP: the kernel accepts connections, nothing
answers — what a network partition looks like to a client). The same checks as
``redis_down``; what it adds is that no request may wait on Redis without a bound.

    python -m loadtest.chaos.redis_frozen      (runs its own throwaway Postgres and Redis)
"""

import sys

from loadtest.chaos import redis_down, scenario
from loadtest.chaos.services import private_postgres


def main() -> int:
    with private_postgres() as cluster:
        result = redis_down.run(cluster.url("finance"), frozen=True)
    return scenario.finish(result, redis_down.passed(result))


if __name__ == "__main__":
    sys.exit(main())
