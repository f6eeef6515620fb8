"""The writes the drills send: balanced journal entries through the public API, with an
accountant's token and the two accounts they post to."""

import datetime
from urllib.parse import urlparse

import httpx
import psycopg
from psycopg import sql

from loadtest.drills.server import PROXY_HEADERS, manage

ACCOUNTS = ({"code": "1000", "name": "Cash", "type": "asset"}, {"code": "4000", "name": "Sales", "type": "revenue"})


def create_postgres_database(database_url: str) -> None:
    """Create the database a Postgres URL names, unless it exists."""
    url = urlparse(database_url)
    name = url.path.lstrip("/")
    maintenance = psycopg.connect(database_url.replace(url.path, "/postgres", 1), autocommit=True)
    try:
        with maintenance.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        maintenance.close()


def prepare_database(environment: dict[str, str]) -> str:
    """Create (on Postgres) and migrate the database, and return a fresh accountant
    token (the user is created if missing)."""
    if environment["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        create_postgres_database(environment["DATABASE_URL"])
    manage(environment, "migrate", "--noinput")
    return manage(environment, "issue_token", "drill-accountant", "--role", "accountant", "--create").strip()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}", **PROXY_HEADERS}


def open_accounts(base_url: str, token: str) -> None:
    """Create the accounts the entries post to (already there is fine)."""
    for account in ACCOUNTS:
        response = httpx.post(f"{base_url}/api/v1/accounts/", json=account, headers=auth(token), timeout=30)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"creating account {account['code']}: {response.status_code} {response.text}")


def entry(amount: str = "1.00") -> dict:
    return {
        "date": datetime.date.today().isoformat(),
        "description": "drill",
        "lines": [{"account": "1000", "debit": amount}, {"account": "4000", "credit": amount}],
    }


def post_entry(token: str):
    """A ``send`` for the load: one journal entry per request, each with its own key."""

    def send(client: httpx.Client, key: str) -> httpx.Response:
        return client.post("/api/v1/journal-entries/", json=entry(), headers={**auth(token), "Idempotency-Key": key})

    return send


def post_batch(token: str, size: int):
    """A ``send`` of one batch of ``size`` entries: a request that takes a while."""

    def send(client: httpx.Client, key: str) -> httpx.Response:
        return client.post(
            "/api/v1/journal-entries/batch/",
            json={"entries": [entry() for _ in range(size)]},
            headers={**auth(token), "Idempotency-Key": key},
        )

    return send


def acknowledged_ids(outcomes) -> list[str]:
    """Ids of every entry the server acknowledged with a 201."""
    ids: list[str] = []
    for outcome in outcomes:
        if outcome.status == 201 and outcome.body:
            ids.extend(outcome.body.get("ids") or [outcome.body["id"]])
    return ids


def missing_entries(base_url: str, token: str, ids: list[str]) -> list[str]:
    """The acknowledged entries the service no longer lists (should be none)."""
    listed = listed_entries(base_url, token)
    return [entry_id for entry_id in ids if entry_id not in listed]


def listed_entries(base_url: str, token: str) -> set[str]:
    """Ids of every journal entry the service lists."""
    listed: set[str] = set()
    url = "/api/v1/journal-entries/?limit=500"
    with httpx.Client(base_url=base_url, headers=auth(token), timeout=60) as client:
        while url:
            response = client.get(url)
            response.raise_for_status()
            page = response.json()
            listed.update(entry["id"] for entry in page["results"])
            # The link is absolute and https (the proxy header says so): keep its path.
            url = urlparse(page["next"])._replace(scheme="", netloc="").geturl() if page["next"] else ""
    return listed
