"""Every route of the service with a sample request for each method it answers, and the
status each role gets: the single table that the authorization matrix, the idempotency
tests and docs/security.md follow."""

from datetime import date
from decimal import Decimal

from django.urls import URLPattern, URLResolver, get_resolver

from finance import services
from finance.domain.invoice import InvoiceLineInput
from finance.domain.journal import LineInput
from rollout import services as rollout_services
from rollout.models import ChangeSource

ANONYMOUS, VIEWER, ACCOUNTANT, OPERATOR = "anonymous", "viewer", "accountant", "operator"
ROLES = (ANONYMOUS, VIEWER, ACCOUNTANT, OPERATOR)

OPEN = dict.fromkeys(ROLES, 200)
READ = {ANONYMOUS: 401, VIEWER: 200, ACCOUNTANT: 200, OPERATOR: 200}


def write(role: str, status: int) -> dict[str, int]:
    """Only ``role`` may: the others are refused (401 without credentials)."""
    return {ANONYMOUS: 401, VIEWER: 403, ACCOUNTANT: 403, OPERATOR: 403, role: status}


ENTRY = {
    "date": "2026-03-05",
    "description": "Cash sale",
    "lines": [{"account": "1000", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}],
}
INVOICE = {
    "customer": "ACME",
    "due_date": "2026-04-30",
    "lines": [{"description": "x", "quantity": "1", "unit_price": "100.00", "account": "4000"}],
}

# URL name → (path from the world, {method: {role: status}}, {method: body from the world}).
MATRIX = {
    "healthz": ("/healthz", {"GET": OPEN}, {}),
    "readyz": ("/readyz", {"GET": OPEN}, {}),
    "metrics": ("/metrics", {"GET": OPEN}, {}),
    "schema": ("/api/schema/", {"GET": READ}, {}),
    "api-docs": ("/api/docs/", {"GET": READ}, {}),
    "report-trial-balance": ("/api/v1/reports/trial-balance/", {"GET": READ}, {}),
    "report-balance-sheet": ("/api/v1/reports/balance-sheet/", {"GET": READ}, {}),
    "report-income-statement": ("/api/v1/reports/income-statement/", {"GET": READ}, {}),
    "report-ar-aging": ("/api/v1/reports/ar-aging/", {"GET": READ}, {}),
    "rollout-flags": (
        "/api/v1/rollout/flags/",
        {"GET": READ, "POST": write(OPERATOR, 201)},
        {"POST": lambda w: {"name": "matrix-new", "percentage": "5", "reason": "matrix"}},
    ),
    "rollout-flag": (
        "/api/v1/rollout/flags/matrix-flag/",
        {"GET": READ, "PATCH": write(OPERATOR, 200)},
        {"PATCH": lambda w: {"percentage": "10", "reason": "matrix"}},
    ),
    "rollout-flag-history": ("/api/v1/rollout/flags/matrix-flag/history/", {"GET": READ}, {}),
    # Any signed-in user, role or not, asks which flags are on for them.
    "rollout-me": ("/api/v1/rollout/me/", {"GET": READ}, {}),
    "accounts": (
        "/api/v1/accounts/",
        {"GET": READ, "POST": write(ACCOUNTANT, 201)},
        {"POST": lambda w: {"code": "6100", "name": "Rent", "type": "expense", "parent": None}},
    ),
    "account": (
        "/api/v1/accounts/1000/",
        {"GET": READ, "PATCH": write(ACCOUNTANT, 200)},
        {"PATCH": lambda w: {"name": "Cash at bank"}},
    ),
    "account-deactivate": ("/api/v1/accounts/5000/deactivate/", {"POST": write(ACCOUNTANT, 200)}, {}),
    "account-reactivate": ("/api/v1/accounts/4100/reactivate/", {"POST": write(ACCOUNTANT, 200)}, {}),
    "account-statement": ("/api/v1/accounts/1000/statement/", {"GET": READ}, {}),
    "journal-entries": (
        "/api/v1/journal-entries/",
        {"GET": READ, "POST": write(ACCOUNTANT, 201)},
        {"POST": lambda w: ENTRY},
    ),
    "journal-entries-batch": (
        "/api/v1/journal-entries/batch/",
        {"POST": write(ACCOUNTANT, 201)},
        {"POST": lambda w: {"entries": [ENTRY, ENTRY]}},
    ),
    "journal-entry": ("/api/v1/journal-entries/{entry}/", {"GET": READ}, {}),
    "journal-reverse": (
        "/api/v1/journal-entries/{entry}/reverse/",
        {"POST": write(ACCOUNTANT, 201)},
        {"POST": lambda w: {"date": "2026-03-06", "reason": "matrix"}},
    ),
    "journal-events": ("/api/v1/journal-entries/{entry}/events/", {"GET": READ}, {}),
    "invoices": ("/api/v1/invoices/", {"GET": READ, "POST": write(ACCOUNTANT, 201)}, {"POST": lambda w: INVOICE}),
    "invoice": (
        "/api/v1/invoices/{draft}/",
        {"GET": READ, "PATCH": write(ACCOUNTANT, 200)},
        {"PATCH": lambda w: {"customer": "Globex"}},
    ),
    "invoice-issue": (
        "/api/v1/invoices/{draft}/issue/",
        {"POST": write(ACCOUNTANT, 200)},
        {"POST": lambda w: {"issue_date": "2026-03-01"}},
    ),
    "invoice-void": (
        "/api/v1/invoices/{draft}/void/",
        {"POST": write(ACCOUNTANT, 200)},
        {"POST": lambda w: {"reason": "x"}},
    ),
    "invoice-events": ("/api/v1/invoices/{issued}/events/", {"GET": READ}, {}),
    "payments": (
        "/api/v1/payments/",
        {"GET": READ, "POST": write(ACCOUNTANT, 201)},
        {"POST": lambda w: {"customer": "ACME", "amount": "10.00", "date": "2026-03-02", "deposit_account": "1000"}},
    ),
    "payment": ("/api/v1/payments/{payment}/", {"GET": READ}, {}),
    "payment-allocate": (
        "/api/v1/payments/{payment}/allocate/",
        {"POST": write(ACCOUNTANT, 200)},
        {"POST": lambda w: {"invoice": w["issued"], "amount": "10.00"}},
    ),
    "payment-refund": (
        "/api/v1/payments/{payment}/refund/",
        {"POST": write(ACCOUNTANT, 200)},
        {"POST": lambda w: {"amount": "5.00", "date": "2026-03-03", "reason": "matrix"}},
    ),
    "payment-events": ("/api/v1/payments/{payment}/events/", {"GET": READ}, {}),
    "periods": ("/api/v1/periods/", {"GET": READ}, {}),
    "period-close": ("/api/v1/periods/2026-02/close/", {"POST": write(ACCOUNTANT, 200)}, {}),
    "period-reopen": (
        "/api/v1/periods/2025-12/reopen/",
        {"POST": write(ACCOUNTANT, 200)},
        {"POST": lambda w: {"reason": "matrix"}},
    ),
    "chart-events": ("/api/v1/chart/events/", {"GET": READ}, {}),
    "events": ("/api/v1/events/", {"GET": READ}, {}),
    "events-stream": ("/api/v1/events/stream/", {"GET": READ}, {}),
}
# Only these answer without credentials (api.md, "Auth").
OPEN_ROUTES = {"healthz", "readyz", "metrics"}
# Methods a view answers but that are no action of their own.
_IMPLICIT = {"options", "head"}


def routes(patterns=None, prefix=""):
    """(route, URL name, view) of every pattern the resolver knows."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


def implemented_methods(callback) -> set[str]:
    view_class = getattr(callback, "view_class", None)
    if view_class is None:  # a plain function view: healthz, readyz, metrics
        return {"GET"}
    return {m.upper() for m in view_class.http_method_names if m not in _IMPLICIT and hasattr(view_class, m)}


def build_world() -> dict[str, str]:
    """One of everything the endpoints act on, set up through the services (on top of
    the standard chart); the ids of what a path names."""
    actor = "setup"
    entry = services.journal_entry_post(
        date=date(2026, 3, 5),
        description="sale",
        currency="USD",
        actor=actor,
        lines=[LineInput(account="1000", debit=Decimal("100.00")), LineInput(account="4000", credit=Decimal("100.00"))],
    )

    def invoice():
        return services.invoice_create(
            customer="ACME",
            currency="USD",
            due_date=date(2026, 4, 30),
            actor=actor,
            lines=[InvoiceLineInput(description="x", quantity=Decimal(1), unit_price=Decimal(100), account="4000")],
        )

    draft, issued = invoice(), invoice()
    services.invoice_issue(invoice_id=issued.id, issue_date=date(2026, 3, 1), actor=actor)
    payment = services.payment_record(
        customer="ACME",
        amount=Decimal("50.00"),
        currency="USD",
        date=date(2026, 3, 2),
        deposit_account="1000",
        allocations=[],
        actor=actor,
    )
    services.period_close(period="2025-12", actor=actor)
    services.account_deactivate(code="4100", actor=actor)
    rollout_services.flag_create(name="matrix-flag", reason="matrix", actor=actor, source=ChangeSource.API)
    return {"entry": entry.id, "draft": draft.id, "issued": issued.id, "payment": payment.id}


def call(client, method: str, path: str, body):
    """One request; a body goes as JSON. (A GET of the event stream returns at once: its
    body is never read, so the stream never starts.)"""
    if body is None:
        return getattr(client, method.lower())(path)
    return getattr(client, method.lower())(path, body, format="json")


_PLACEHOLDERS = {
    "{entry}": "{id}",
    "{draft}": "{id}",
    "{issued}": "{id}",
    "{payment}": "{id}",
    "/1000/": "/{code}/",
    "/5000/": "/{code}/",
    "/4100/": "/{code}/",
    "matrix-flag": "{name}",
    "2026-02": "{YYYY-MM}",
    "2025-12": "{YYYY-MM}",
}


def markdown_table() -> str:
    """The matrix as docs/security.md shows it."""
    rows = ["| route | method | anonymous | viewer | accountant | operator |", "|---|---|---|---|---|---|"]
    for path, methods, _ in MATRIX.values():
        shown = path.removeprefix("/api/v1")
        for sample, placeholder in _PLACEHOLDERS.items():
            shown = shown.replace(sample, placeholder)
        for method, statuses in methods.items():
            rows.append(f"| `{shown}` | {method} | " + " | ".join(str(statuses[role]) for role in ROLES) + " |")
    return "\n".join(rows) + "\n"
