"""What the books hold after a scenario, compared with what the clients were told: the
events each request wrote (by the request id in their metadata), and the service's own
integrity checks (the hash chains, the read models rebuilt from the log)."""

from collections import Counter

import psycopg

from loadtest.chaos.calls import Call
from loadtest.drills.server import manage

# What one acknowledged request of each kind writes: one event of each of these types.
EXPECTED_EVENTS = {
    "allocate": ("InvoicePaymentApplied", "PaymentAllocated"),
    "post-entry": ("JournalEntryPosted",),
    "edit-draft": ("InvoiceDraftUpdated",),
    "edit-draft-if-match": ("InvoiceDraftUpdated",),
    "open-account": ("AccountOpened",),
}


def events_by_request(database_url: str, run_id: str) -> dict[str, list[str]]:
    """Event types written under each request id of this run, read straight from the log."""
    connection = psycopg.connect(database_url, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT metadata::jsonb ->> 'request_id', type FROM finance_event"
                " WHERE metadata::jsonb ->> 'request_id' LIKE %s ORDER BY sequence",
                [f"{run_id}-%"],
            )
            written: dict[str, list[str]] = {}
            for request_id, event_type in cursor.fetchall():
                written.setdefault(request_id, []).append(event_type)
            return written
    finally:
        connection.close()


def compare(calls: list[Call], written: dict[str, list[str]]) -> dict:
    """Each acknowledged write exactly once, nothing from a refused one.

    - ``found``: acknowledged writes whose events are all in the log;
    - ``missing``: acknowledged writes with no event;
    - ``duplicated``: requests whose events appear more than once (a write applied twice);
    - ``refused_but_written``: a request answered with an error that still left events;
    - ``unacknowledged``: requests that never got an answer (gave up) yet wrote — legitimate
      after a crash, reported for completeness."""
    by_id = {call.request_id: call for call in calls if call.kind in EXPECTED_EVENTS}
    found = missing = duplicated = wrong = refused_but_written = unanswered_written = 0
    for request_id, call in by_id.items():
        events = written.get(request_id, [])
        expected = EXPECTED_EVENTS[call.kind]
        if any(count > 1 for count in Counter(events).values()):
            duplicated += 1
        if call.ok:
            if not events:
                missing += 1
            elif sorted(set(events)) == sorted(expected):
                found += 1
            else:
                wrong += 1
        elif events and call.status is not None:
            refused_but_written += 1
        elif events:
            unanswered_written += 1
    strangers = sum(1 for request_id in written if request_id not in by_id)
    return {
        "acknowledged": sum(call.ok for call in by_id.values()),
        "found": found,
        "missing": missing,
        "duplicated": duplicated,
        "wrong_events": wrong,
        "refused_but_written": refused_but_written,
        "unacknowledged_written": unanswered_written,
        "written_by_unknown_requests": strangers,
    }


def integrity(environment: dict[str, str]) -> dict:
    """verify_events (hash chains) and verify_projections (read models = rebuilt from the log)."""
    results = {}
    for name, command in (("verify_events", "verify_events"), ("verify_projections", "verify_projections")):
        try:
            manage(environment, command, "--no-progress")
            results[name] = "ok"
        except RuntimeError as error:
            results[name] = f"FAILED: {str(error)[-300:]}"
    return results
