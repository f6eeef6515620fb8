"""Schemathesis against the OpenAPI document the service serves, in process through the
production WSGI app, as an accountant: whatever it sends, no 5xx, and every answer
conforms to the schema (documented status, content type, headers and body).
``make fuzz`` runs it longer, with fresh randomness."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from finance.api.auth import issue_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))

# The document /api/schema/ serves (test_the_fuzzed_schema_is_the_served_one), generated
# here at collection time: the operations become test items.
DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(
    # The live event stream never ends: it is no request/response operation to fuzz.
    path="/api/v1/events/stream/"
)


@pytest.fixture
def wsgi_app():
    """The production WSGI application, inside the test's transaction: like Django's
    test client, it must not close the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(chart, world, make_client):
    user = make_client("accountant").user
    return {"Authorization": f"Token {issue_token(user)}", "Host": "localhost"}


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_served_one(accountant):
    served = accountant.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
)
def test_no_input_gets_a_server_error_or_an_answer_off_the_schema(case, wsgi_app, auth_headers):
    case.call_and_validate(app=wsgi_app, headers=auth_headers, checks=CHECKS)
