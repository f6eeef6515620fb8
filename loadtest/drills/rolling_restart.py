"""Drill: a rolling restart of gunicorn (HUP: new workers start, the old ones finish what
they hold) while clients keep writing journal entries. Zero requests may fail and every
write lands exactly once. A client whose keep-alive connection is closed under it before
any response retries with the same Idempotency-Key, as the API contract tells it to; the
report counts those retries.

    python -m loadtest.drills.rolling_restart      (DATABASE_URL, REDIS_URL from the environment)
"""

import json
import os
import sys
import time

from loadtest.drills import books
from loadtest.drills.load import Load, summary
from loadtest.drills.postgres import connection_count
from loadtest.drills.server import Gunicorn, service_environment


def run(database_url: str, redis_url: str = "", restarts: int = 3, clients: int = 4) -> dict:
    environment = service_environment(database_url, redis_url)
    token = books.prepare_database(environment)
    with Gunicorn(environment, workers=2) as server:
        books.open_accounts(server.base_url, token)
        database = database_url.rpartition("/")[2]
        before = books.listed_entries(server.base_url, token)
        load = Load(server.base_url, books.post_entry(token), clients=clients, max_seconds=90, retries=2).start()
        time.sleep(2.0)
        replaced_in = []
        peak_connections = connection_count(database_url, database)
        for _ in range(restarts):
            replaced_in.append(server.rolling_restart())
            time.sleep(2.0)
            peak_connections = max(peak_connections, connection_count(database_url, database))
        outcomes = load.stop()
        acknowledged = set(books.acknowledged_ids(outcomes))
        created = books.listed_entries(server.base_url, token) - before
    return {
        "drill": "rolling-restart",
        **summary(outcomes),
        "restarts": restarts,
        "database_connections_sampled_peak": peak_connections,
        "workers_replaced_and_serving_after_seconds": [round(seconds, 2) for seconds in replaced_in],
        "acknowledged_writes": len(acknowledged),
        "acknowledged_writes_missing": len(acknowledged - created),
        "writes_created_twice_or_unacknowledged": len(created - acknowledged),
    }


def passed(result: dict) -> bool:
    return (
        result["requests"] > 0
        and result["failed"] == 0
        and result["acknowledged_writes_missing"] == 0
        and result["writes_created_twice_or_unacknowledged"] == 0
    )


def main() -> int:
    result = run(os.environ["DATABASE_URL"], os.environ.get("REDIS_URL", ""))
    print(json.dumps(result, indent=2))  # noqa: T201 - the drill's report
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
