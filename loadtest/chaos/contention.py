"""Chaos: many clients at once on the same aggregates, over HTTP against gunicorn on
Postgres. Every client does a fixed number of writes, all starting together, each the
next of: allocate part of one payment to one invoice, post an entry to the same two
accounts, edit one draft invoice without If-Match, edit it with If-Match (GET, then PATCH
with its ETag), open an account in the chart.

Afterwards each 2xx must be in the event log exactly once, nothing refused may be, the
balances must equal the sum of what was acknowledged, no two acknowledged edits may
claim the same version (a lost update), and 409/412 may only answer requests that sent
If-Match.

    python -m loadtest.chaos.contention      (DATABASE_URL from the environment)
"""

import sys
import threading
from decimal import Decimal

from loadtest.chaos import books as chaos_books
from loadtest.chaos import evidence, scenario
from loadtest.chaos.calls import Recorder, errors_by_kind, statuses
from loadtest.chaos.services import private_postgres, running_service
from loadtest.drills.postgres import connection_count

# The service's default bound per worker process (MAX_CONCURRENT_REQUESTS); besides those,
# a probe, the metrics collector and the sampler itself may hold a connection.
CONCURRENT_REQUESTS_PER_WORKER = 10
ALLOWANCE = 3

KINDS = ("allocate", "post-entry", "edit-draft", "edit-draft-if-match", "open-account")
ALLOCATION = Decimal("1.00")


class ConnectionSampler:
    """Samples the database's connection count every 0.1 s; keeps the peak."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.database = database_url.rpartition("/")[2]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> "ConnectionSampler":
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, connection_count(self.database_url, self.database))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def amount_for(client: int, turn: int) -> Decimal:
    return Decimal(client + 1) + Decimal(turn) / 100


def _work(recorder: Recorder, books: chaos_books.Books, client_index: int, rounds: int, start: threading.Barrier):
    with recorder.client(timeout=180) as client:
        start.wait(timeout=120)
        for turn in range(rounds):
            kind = KINDS[(client_index + turn) % len(KINDS)]
            if kind == "allocate":
                body = {"invoice": books.invoice, "amount": str(ALLOCATION)}
                recorder.send(client, kind, "POST", f"/api/v1/payments/{books.payment}/allocate/", json=body)
            elif kind == "post-entry":
                body = chaos_books.entry(books, amount_for(client_index, turn))
                recorder.send(client, kind, "POST", "/api/v1/journal-entries/", json=body)
            elif kind == "open-account":
                body = {"code": f"7{client_index:03d}{turn:02d}-{books.run_id}", "name": "Chaos", "type": "expense"}
                recorder.send(client, kind, "POST", "/api/v1/accounts/", json=body)
            else:
                body = {"lines": [books.line(f"client {client_index} turn {turn}")]}
                etag = None
                if kind == "edit-draft-if-match":
                    etag = client.get(f"/api/v1/invoices/{books.draft}/").headers["ETag"]
                recorder.send(client, kind, "PATCH", f"/api/v1/invoices/{books.draft}/", json=body, if_match=etag)


def run(database_url: str, clients: int = 100, rounds: int = 5, workers: int = 2) -> dict:
    with running_service(database_url, workers=workers) as service:
        recorder = Recorder(service.server.base_url, service.token)
        total = ALLOCATION * clients * rounds
        books = chaos_books.set_up(recorder, invoice_total=str(total))
        start = threading.Barrier(clients)
        threads = [
            threading.Thread(target=_work, args=(recorder, books, index, rounds, start), daemon=True)
            for index in range(clients)
        ]
        sampler = ConnectionSampler(database_url).start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        sampler.stop()
        calls = list(recorder.calls)
        invoice = chaos_books.get(recorder, f"/api/v1/invoices/{books.invoice}/")
        payment = chaos_books.get(recorder, f"/api/v1/payments/{books.payment}/")
        draft = chaos_books.get(recorder, f"/api/v1/invoices/{books.draft}/")
        entries_balance = chaos_books.balance(recorder, books.debit)
        accounts = chaos_books.list_all(recorder, "/api/v1/accounts/?limit=500&type=expense")
        written = evidence.events_by_request(database_url, recorder.run_id)
        integrity = evidence.integrity(service.environment)

    acknowledged = {kind: [call for call in calls if call.ok and call.kind == kind] for kind in KINDS}
    edits = acknowledged["edit-draft"] + acknowledged["edit-draft-if-match"]
    edit_versions = [call.body["version"] for call in edits]
    last_edit = max(edits, key=lambda call: call.body["version"], default=None)
    allocated = ALLOCATION * len(acknowledged["allocate"])
    posted = sum((Decimal(call.body["lines"][0]["debit"]) for call in acknowledged["post-entry"]), Decimal(0))
    opened = {call.body["code"] for call in acknowledged["open-account"]}
    listed_codes = [account["code"] for account in accounts if account["code"].endswith(books.run_id)]
    conflicts = [call for call in calls if call.status in (409, 412)]
    return {
        "scenario": "contention",
        "clients": clients,
        "requests": len(calls),
        "statuses": statuses(calls),
        "errors_by_kind": errors_by_kind(calls),
        "refusals_by_request_kind": {
            kind: errors_by_kind([call for call in calls if call.kind == kind]) for kind in KINDS
        },
        "server_errors": sum(call.status is not None and call.status >= 500 for call in calls),
        **evidence.compare(calls, written),
        "conflicts_without_if_match": sum(not call.if_match for call in conflicts),
        "conflicts_with_if_match": sum(call.if_match for call in conflicts),
        "invoice_amount_paid": invoice["amount_paid"],
        "payment_allocated": payment["allocated"],
        "allocations_acknowledged_total": str(allocated),
        "entries_balance": str(entries_balance),
        "entries_acknowledged_total": str(posted),
        "draft_edits_acknowledged": len(edits),
        "draft_version": draft["version"],
        "draft_edit_versions_claimed_twice": len(edit_versions) - len(set(edit_versions)),
        "draft_is_last_acknowledged_edit": last_edit is not None and draft["lines"] == last_edit.body["lines"],
        "accounts_acknowledged": len(opened),
        "accounts_listed": len(listed_codes),
        "accounts_listed_not_acknowledged": len(set(listed_codes) - opened),
        "database_connections_peak": sampler.peak,
        "database_connections_bound": workers * CONCURRENT_REQUESTS_PER_WORKER + ALLOWANCE,
        "slowest_request_seconds": round(max((call.seconds for call in calls), default=0), 2),
        **integrity,
    }


def passed(result: dict) -> bool:
    return (
        result["server_errors"] == 0
        and result["missing"] == 0
        and result["duplicated"] == 0
        and result["wrong_events"] == 0
        and result["refused_but_written"] == 0
        and result["written_by_unknown_requests"] == 0
        and result["conflicts_without_if_match"] == 0
        and Decimal(result["invoice_amount_paid"]) == Decimal(result["allocations_acknowledged_total"])
        and Decimal(result["payment_allocated"]) == Decimal(result["allocations_acknowledged_total"])
        and Decimal(result["entries_balance"]) == Decimal(result["entries_acknowledged_total"])
        and result["draft_version"] == 1 + result["draft_edits_acknowledged"]
        and result["draft_edit_versions_claimed_twice"] == 0
        and result["draft_is_last_acknowledged_edit"]
        and result["accounts_listed"] == result["accounts_acknowledged"]
        and result["accounts_listed_not_acknowledged"] == 0
        and result["database_connections_peak"] <= result["database_connections_bound"]
        and result["verify_events"] == "ok"
        and result["verify_projections"] == "ok"
    )


def main() -> int:
    with private_postgres() as cluster:
        result = run(cluster.url("finance"))
    return scenario.finish(result, passed(result))


if __name__ == "__main__":
    sys.exit(main())
