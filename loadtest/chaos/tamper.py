"""Chaos: someone with database access edits the event log behind the service's back
(triggers switched off for the session, as only a superuser can). ``verify_events``
must catch each kind of edit and name the event; on the untouched copy it must pass.

    python -m loadtest.chaos.tamper      (runs its own throwaway Postgres cluster)
"""

import sys

import psycopg
from psycopg import sql

from loadtest.chaos import scenario
from loadtest.chaos.services import private_postgres
from loadtest.drills import books as drill_books
from loadtest.drills.postgres import PrivateCluster
from loadtest.drills.server import manage, service_environment

# Each edit runs with triggers off (session_replication_role = replica) on a copy of the
# seeded database. The event picked is the middle one of the longest stream.
_MIDDLE_OF_LONGEST = (
    "(SELECT sequence FROM finance_event WHERE stream_id = ("
    "  SELECT stream_id FROM finance_event GROUP BY stream_id ORDER BY count(*) DESC, stream_id LIMIT 1)"
    " ORDER BY version OFFSET (SELECT count(*) / 2 FROM finance_event e2 WHERE e2.stream_id = ("
    "  SELECT stream_id FROM finance_event GROUP BY stream_id ORDER BY count(*) DESC, stream_id LIMIT 1)) LIMIT 1)"
)
EDITS = {
    "amount changed in an event's data": (
        f"UPDATE finance_event SET data = regexp_replace(data, '\\d', '9') WHERE sequence = {_MIDDLE_OF_LONGEST}"
    ),
    "event deleted from a stream": f"DELETE FROM finance_event WHERE sequence = {_MIDDLE_OF_LONGEST}",
    "actor rewritten in metadata": (
        'UPDATE finance_event SET metadata = replace(metadata, \'"actor":"\', \'"actor":"x\')'
        f" WHERE sequence = {_MIDDLE_OF_LONGEST}"
    ),
    "data and hash both replaced": (
        "UPDATE finance_event SET data = regexp_replace(data, '\\d', '8'), hash = md5(hash) || md5(hash)"
        f" WHERE sequence = {_MIDDLE_OF_LONGEST}"
    ),
}


def _copy(cluster: PrivateCluster, source: str, target: str) -> str:
    connection = psycopg.connect(cluster.url(), connect_timeout=5, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(source))
            )
    finally:
        connection.close()
    return cluster.url(target)


def _edit(database_url: str, statement: str) -> int:
    # Leaving the block commits and closes the connection.
    with psycopg.connect(database_url, connect_timeout=5) as connection, connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(statement)
        return cursor.rowcount


def _verify(environment: dict[str, str]) -> str:
    try:
        return manage(environment, "verify_events", "--no-progress").strip()
    except RuntimeError as error:
        return f"FAILED: {str(error).strip().splitlines()[-1][:200]}"


def run(cluster: PrivateCluster) -> dict:
    environment = service_environment(cluster.url("finance"))
    drill_books.prepare_database(environment)
    manage(environment, "seed_demo")
    untouched = _verify(environment)
    caught = {}
    for index, (name, statement) in enumerate(EDITS.items()):
        copy = _copy(cluster, "finance", f"finance_tampered_{index}")
        rows = _edit(copy, statement)
        verdict = _verify({**environment, "DATABASE_URL": copy})
        caught[name] = {"rows_edited": rows, "verify_events": verdict}
    return {
        "scenario": "tamper",
        "untouched_log": untouched,
        "edits": caught,
        "edits_caught": sum(result["verify_events"].startswith("FAILED") for result in caught.values()),
        "edits_made": len(caught),
    }


def passed(result: dict) -> bool:
    return (
        result["untouched_log"].startswith("ok")
        and result["edits_made"] == len(EDITS)
        and all(edit["rows_edited"] == 1 for edit in result["edits"].values())
        and result["edits_caught"] == result["edits_made"]
    )


def main() -> int:
    with private_postgres() as cluster:
        result = run(cluster)
    return scenario.finish(result, passed(result))


if __name__ == "__main__":
    sys.exit(main())
