"""Every URL the service routes × every method it implements × every role gets the status
docs/security.md promises: 401 without credentials, 403 for the wrong role, 2xx for the
right one. The URL list comes from the resolver, so an endpoint added without a row here
fails ``test_every_route_has_a_row_in_the_matrix``."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

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


def api_routes():
    return [(route, name, callback) for route, name, callback in routes() if not route.startswith("admin/")]


def test_every_route_has_a_row_in_the_matrix():
    routed = {name: implemented_methods(callback) for _, name, callback in api_routes()}
    assert set(routed) == set(MATRIX)
    assert {name: set(row[1]) for name, row in MATRIX.items()} == routed


@pytest.fixture
def world(chart):
    """One of everything the matrix acts on, set up through the services."""
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


@pytest.fixture
def clients(make_client):
    anonymous = APIClient(SERVER_NAME="localhost")
    return {ANONYMOUS: anonymous} | {role: make_client(role) for role in (VIEWER, ACCOUNTANT, OPERATOR)}


def call(client, method: str, path: str, body):
    if body is None:
        return getattr(client, method.lower())(path)
    # (The event stream's body is never iterated, so its generator never starts.)
    return getattr(client, method.lower())(path, body, format="json")


CASES = [(name, method) for name, (_, methods, _) in MATRIX.items() for method in methods]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{m} {n}" for n, m in CASES])
def test_each_role_gets_what_the_matrix_says(world, clients, name, method):
    path_template, methods, bodies = MATRIX[name]
    path = path_template.format(**world)
    expected = methods[method]
    body = bodies[method](world) if method in bodies else None
    # The one role that may write goes last: a refused request must change nothing
    # that the allowed one then relies on.
    order = sorted(ROLES, key=lambda role: 200 <= expected[role] < 300)

    got = {role: call(clients[role], method, path, body).status_code for role in order}

    assert got == expected


@pytest.mark.django_db
def test_methods_a_route_does_not_implement_are_405_even_for_the_writer(world, clients):
    answers = {}
    for name in sorted(set(MATRIX) - OPEN_ROUTES):
        path_template, methods, _ = MATRIX[name]
        writer = clients[OPERATOR if name.startswith("rollout") else ACCOUNTANT]
        for method in sorted({"POST", "PUT", "PATCH", "DELETE"} - set(methods)):
            response = call(writer, method, path_template.format(**world), {})
            answers[f"{method} {name}"] = (response.status_code, response["Content-Type"])
    assert set(answers.values()) == {(405, "application/problem+json")}, answers


ADMIN_ROUTES = sorted(route for route, _, _ in routes() if route.startswith("admin/"))


def admin_path(route: str) -> str:
    """A concrete path for a route: every argument filled with a plausible value."""
    import re

    path = re.sub(r"<(?:\w+:)?object_id>", "1", route)
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "ledger", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    return "/" + path.replace("^", "").replace("$", "")


@pytest.mark.django_db
def test_every_admin_page_is_for_staff_only(chart):
    # given: a visitor, and an accountant with a role but no staff flag
    accountant = User.objects.create_user("not-staff", password="pw-not-staff-1")
    anonymous, signed_in = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
    signed_in.force_login(accountant)
    served = []
    for route in ADMIN_ROUTES:
        path = admin_path(route)
        for who, client in (("anonymous", anonymous), ("not staff", signed_in)):
            # when
            response = client.get(path, follow=True)
            # then: the login page, or refused outright; never the page itself
            if response.status_code in (403, 404, 405):
                continue
            if response.status_code == 200 and response.resolver_match.view_name == "admin:login":
                continue
            served.append((who, path, response.status_code))
    assert served == []
    assert len(ADMIN_ROUTES) > 50  # the enumeration did find the admin's pages


@pytest.mark.django_db
def test_a_staff_superuser_gets_the_admin_index_and_every_changelist(chart):
    admin = User.objects.create_superuser("root", password="pw-root-1")
    client = Client(SERVER_NAME="localhost")
    client.force_login(admin)
    lists = [admin_path(route) for route in ADMIN_ROUTES if route.count("/") == 3 and "<" not in route]
    statuses = {path: client.get(path).status_code for path in ["/admin/", *lists]}
    assert set(statuses.values()) == {200}, statuses
