import pytest
from rest_framework.test import APIClient

from tests.security.endpoints import ACCOUNTANT, ANONYMOUS, OPERATOR, VIEWER, build_world


@pytest.fixture
def world(chart):
    return build_world()


@pytest.fixture
def clients(make_client):
    anonymous = APIClient(SERVER_NAME="localhost")
    return {ANONYMOUS: anonymous} | {role: make_client(role) for role in (VIEWER, ACCOUNTANT, OPERATOR)}
