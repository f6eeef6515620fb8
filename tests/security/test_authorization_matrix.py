"""Every URL the service routes × every method it implements × every role gets the status
docs/security.md promises: 401 without credentials, 403 for the wrong role, 2xx for the
right one. The URL list comes from the resolver, so an endpoint added without a row in
tests/security/endpoints.py fails ``test_every_route_has_a_row_in_the_matrix``."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.security.endpoints import (
    ACCOUNTANT,
    MATRIX,
    OPEN_ROUTES,
    OPERATOR,
    ROLES,
    call,
    implemented_methods,
    markdown_table,
    routes,
)

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def api_routes():
    return [(route, name, callback) for route, name, callback in routes() if not route.startswith("admin/")]


def test_every_route_has_a_row_in_the_matrix():
    routed = {name: implemented_methods(callback) for _, name, callback in api_routes()}
    assert set(routed) == set(MATRIX)
    assert {name: set(row[1]) for name, row in MATRIX.items()} == routed


def test_the_documented_matrix_is_this_one():
    assert markdown_table() in SECURITY_DOC.read_text()


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
    path = re.sub(r"<(?:\w+:)?object_id>", "1", route)
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "ledger", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    return "/" + path.replace("^", "").replace("$", "")


@pytest.mark.django_db
def test_every_admin_page_is_for_staff_only(chart):
    # given: a visitor, and an accountant with a role but no staff flag
    accountant = User.objects.create_user("not-staff", password="pw-not-staff-1")
    accountant.groups.add(Group.objects.get_or_create(name="accountant")[0])
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
