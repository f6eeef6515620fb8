"""A change made in the admin reaches every worker process within two seconds, and every
worker gives a subject the same answer. Two real servers, each its own process, on the
test database (and the test Redis, where configured)."""

import time

import httpx
import pytest

from rollout import bucketing
from rollout.decisions import VISITOR_COOKIE, sign_visitor
from rollout.models import Flag
from tests.rollout.admin_forms import change_url, form_data
from tests.rollout.servers import serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plain_static_files"), pytest.mark.slow]

BOUND_SECONDS = 2.0


@pytest.fixture
def two_workers(tmp_path):
    with serving(2, tmp_path) as urls:
        yield urls


def visitor_cookie(visitor: str) -> dict:
    return {VISITOR_COOKIE: sign_visitor(visitor)}


def rollout_header(url: str, visitor: str) -> str:
    return httpx.get(f"{url}/healthz", cookies=visitor_cookie(visitor), timeout=2).headers["X-Rollout"]


def test_an_admin_change_reaches_both_workers_within_two_seconds(two_workers, operator_client, make_flag):
    flag = make_flag("beta", percentage="0")
    salt = Flag.objects.get(name="beta").salt
    inside = next(v for v in (f"visitor-{n}" for n in range(1000)) if bucketing.bucket(salt, f"anon:{v}") < 5000)
    assert [rollout_header(url, inside) for url in two_workers] == ["", ""]  # both hold version 1

    # when an operator sets 50 % in the admin
    data = form_data(operator_client, change_url(flag), enabled="on", percentage="50", reason="half", seen_version="1")
    assert operator_client.post(change_url(flag), data, secure=True).status_code == 302
    committed = time.monotonic()

    # then each worker shows it within the bound
    seen_after = {}
    while len(seen_after) < len(two_workers) and time.monotonic() - committed < BOUND_SECONDS + 3:
        for url in two_workers:
            if url not in seen_after and rollout_header(url, inside) == "beta":
                seen_after[url] = time.monotonic() - committed
        time.sleep(0.05)
    assert set(seen_after) == set(two_workers)
    assert max(seen_after.values()) <= BOUND_SECONDS

    # and both workers give each visitor the same answer
    visitors = [f"sticky-{n}" for n in range(40)]
    answers = [[rollout_header(url, v) for v in visitors] for url in two_workers]
    assert answers[0] == answers[1]
    assert answers[0] == ["beta" if bucketing.bucket(salt, f"anon:{v}") < 5000 else "" for v in visitors]
