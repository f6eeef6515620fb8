import re
import time
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
from django.core import signing
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import modify_settings, override_settings
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from finance.api.auth import issue_token
from rollout import bucketing, registry
from rollout.decisions import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE, VISITOR_COOKIE_SALT, sign_visitor
from rollout.evaluation import ALLOWED, IN_COHORT, OUT_OF_COHORT
from rollout.middleware import set_visitor_cookie
from rollout.tasks import republish_version
from rollout.testing import override_flag

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rollout.urls")]


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(registry.registry, "_clock", fake)
    return fake


class CountingCache:
    """Stands in for the cache the registry talks to, counting every call."""

    def __init__(self, real):
        self.real = real
        self.calls: list[str] = []

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture
def cache_calls(monkeypatch):
    counting = CountingCache(registry.cache)
    monkeypatch.setattr(registry, "cache", counting)
    return counting.calls


def test_header_names_the_active_flags_and_request_rollout_explains(client, make_flag, make_user):
    user = make_user("ana")
    make_flag("alpha", percentage="100")
    make_flag("beta", users=["ana"])
    make_flag("gamma")
    client.force_login(user)

    response = client.get("/labs/status/200", secure=True)

    assert response["X-Rollout"] == "alpha,beta"
    decisions = response.wsgi_request.rollout
    assert decisions["beta"].reason == ALLOWED
    assert decisions["alpha"].reason == IN_COHORT
    assert decisions["gamma"].reason == OUT_OF_COHORT
    assert decisions["gamma"].bucket == bucketing.bucket(
        registry.registry.current().rules["gamma"].salt, f"user:{user.pk}"
    )
    assert decisions["missing"].reason == "unknown"
    assert decisions["gamma"] is decisions["gamma"]


def test_anonymous_visitors_get_a_signed_sticky_cookie(client, make_flag):
    make_flag("half", percentage="50")

    first = client.get("/labs/status/200", secure=True)
    cookie = first.cookies[VISITOR_COOKIE]
    answers = {client.get("/labs/status/200", secure=True)["X-Rollout"] for _ in range(5)}

    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    assert cookie["max-age"] == 365 * 24 * 3600
    assert abs(parsedate_to_datetime(cookie["expires"]).timestamp() - (time.time() + 365 * 24 * 3600)) < 5
    assert answers == {first["X-Rollout"]}
    assert VISITOR_COOKIE not in client.get("/labs/status/200", secure=True).cookies
    assert "Cookie" in first["Vary"]


def test_a_visitor_is_bucketed_by_the_id_in_the_cookie(client, make_flag):
    make_flag("half", percentage="50")
    salt = registry.registry.current().rules["half"].salt
    visitor = next(v for v in (f"visitor-{n}" for n in range(100)) if bucketing.bucket(salt, f"anon:{v}") < 5000)
    client.cookies = SimpleCookie({VISITOR_COOKIE: sign_visitor(visitor)})

    response = client.get("/labs/status/200", secure=True)

    assert response["X-Rollout"] == "half"
    assert response.wsgi_request.rollout["half"].bucket == bucketing.bucket(salt, f"anon:{visitor}")


@pytest.mark.parametrize("secret_key", ["one-secret", "another-secret"])
def test_the_visitor_cookie_is_what_djangos_signer_writes(settings, secret_key):
    settings.SECRET_KEY = secret_key

    assert sign_visitor("a-visitor") == signing.Signer(salt=VISITOR_COOKIE_SALT).sign("a-visitor")


def test_a_forged_cookie_is_replaced(client, make_flag):
    make_flag("half", percentage="50")
    client.cookies = SimpleCookie({VISITOR_COOKIE: "chosen-visitor:forged-signature"})

    response = client.get("/labs/status/200", secure=True)

    assert response.cookies[VISITOR_COOKIE].value != "chosen-visitor:forged-signature"


def test_an_out_of_cohort_request_to_a_gated_path_is_a_problem_404(client, make_flag):
    make_flag("beta", percentage="0", path_prefixes=["/beta/"])

    response = client.get("/beta/page", secure=True)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_an_out_of_cohort_request_goes_to_the_fallback_with_307(client, make_flag):
    make_flag("beta", percentage="0", path_prefixes=["/beta/"], fallback_url="/labs/status/200")

    response = client.post("/beta/page?x=1", secure=True)

    assert (response.status_code, response["Location"]) == (307, "/labs/status/200")


def test_the_cohort_passes_the_gate_and_templates_see_the_flag(client, make_flag):
    make_flag("beta", percentage="100", path_prefixes=["/beta/"])

    response = client.get("/beta/page", secure=True)

    assert (response.status_code, response.content) == (200, b"new page")


def test_api_token_users_are_decided_as_themselves_at_the_gate(client, make_flag, make_user):
    user = make_user("robot")
    key = issue_token(user)
    make_flag("beta", users=["robot"], path_prefixes=["/beta/"])

    allowed = client.get("/beta/page", secure=True, headers={"Authorization": f"Token {key}"})
    refused = client.get("/beta/page", secure=True, headers={"Authorization": "Token wrong"})

    assert (allowed.status_code, refused.status_code) == (200, 404)


def test_a_gated_api_request_looks_its_token_up_once(client, make_flag, make_user):
    key = issue_token(make_user("robot", "viewer"))
    make_flag("beta", users=["robot"], path_prefixes=["/api/v1/accounts/"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/accounts/", secure=True, headers={"Authorization": f"Token {key}"})

    assert (response.status_code, response["X-Rollout"]) == (200, "beta")
    assert sum("finance_api_token" in query["sql"] for query in queries.captured_queries) == 1


def test_a_gated_request_whose_token_cannot_be_looked_up_is_a_problem_503(client, make_flag, make_user):
    key = issue_token(make_user("robot"))
    make_flag("beta", users=["robot"], path_prefixes=["/beta/"])
    assert client.get("/beta/page", secure=True, headers={"Authorization": f"Token {key}"}).status_code == 200

    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/beta/page", secure=True, headers={"Authorization": f"Token {key}"})

    assert (response.status_code, response["Content-Type"]) == (503, "application/problem+json")
    assert response["Retry-After"] == "2"


def test_a_signed_in_user_whose_session_cannot_be_read_is_still_served(client, make_flag, make_user):
    make_flag("beta", percentage="100")
    client.force_login(make_user("ana"))
    assert client.get("/labs/status/200", secure=True)["X-Rollout"] == "beta"

    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/labs/status/200", secure=True)

    assert (response.status_code, response["X-Rollout"]) == (200, "beta")


def test_flag_is_active_and_the_template_tag_off(client, make_flag):
    make_flag("beta", percentage="0")

    assert client.get("/labs/active/beta", secure=True).content == b"no"
    assert client.get("/labs/active/unknown", secure=True).content == b"no"


def test_override_flag_forces_a_flag_as_context_manager_and_decorator(client, make_flag):
    make_flag("beta", percentage="0")

    with override_flag("beta", active=True):
        inside = client.get("/labs/active/beta", secure=True)
        with override_flag("beta", active=False):
            nested = client.get("/labs/active/beta", secure=True)
        restored = client.get("/labs/active/beta", secure=True)

    @override_flag("not-in-the-database", active=True)
    def decorated():
        return client.get("/labs/active/not-in-the-database", secure=True)

    assert [r.content for r in (inside, nested, restored)] == [b"yes", b"no", b"yes"]
    assert decorated().content == b"yes"
    assert client.get("/labs/active/beta", secure=True).content == b"no"


def test_steady_state_requests_cost_no_query_and_no_cache_call(
    client, make_flag, make_user, clock, cache_calls, django_assert_num_queries
):
    for n in range(20):
        make_flag(f"flag-{n}", percentage=str(n * 5), path_prefixes=[f"/gated-{n}/"] if n % 4 == 0 else [])
    client.get("/labs/status/200", secure=True)  # loads the copy
    cache_calls.clear()

    with django_assert_num_queries(0):
        responses = [client.get("/labs/status/200", secure=True) for _ in range(50)]
        clock.now += 0.99
        responses += [client.get("/labs/status/200", secure=True) for _ in range(50)]

    assert cache_calls == []
    assert all(r.status_code == 200 and r.has_header("X-Rollout") for r in responses)


def _tables(queries: CaptureQueriesContext) -> list[list[str]]:
    """The tables each query read (the SQL itself holds times that differ between runs)."""
    return [re.findall(r'FROM "(\w+)"', query["sql"]) for query in queries.captured_queries]


def test_for_a_signed_in_user_the_middleware_adds_no_query_and_no_cache_call(
    client, make_flag, make_user, clock, cache_calls
):
    user = make_user("ana")
    make_flag("beta", users=["ana"])
    make_flag("half", percentage="50")
    client.force_login(user)
    client.get("/labs/whoami", secure=True)  # loads the copy
    cache_calls.clear()

    with CaptureQueriesContext(connection) as with_rollout:
        response = client.get("/labs/whoami", secure=True)
    with (
        modify_settings(MIDDLEWARE={"remove": "rollout.middleware.RolloutMiddleware"}),
        CaptureQueriesContext(connection) as without,
    ):
        client.get("/labs/whoami", secure=True)

    assert (response.content, response["X-Rollout"].split(",")[0]) == (b"ana", "beta")
    assert ["django_session"] in _tables(without)  # the view's own reads, which both requests make
    assert _tables(with_rollout) == _tables(without)
    assert cache_calls == []


def test_after_a_second_one_version_check_then_quiet_again(
    client, make_flag, clock, cache_calls, django_assert_num_queries
):
    make_flag("beta", percentage="100")
    client.get("/labs/status/200", secure=True)
    cache_calls.clear()

    clock.now += 1.0
    with django_assert_num_queries(0):
        responses = [client.get("/labs/status/200", secure=True) for _ in range(10)]

    # The check reads the published token: one cache read with Redis, a small file
    # read in the embedded mode; no query either way.
    assert cache_calls == (["get"] if registry._cache_is_shared() else [])
    assert {r["X-Rollout"] for r in responses} == {"beta"}


def test_a_token_left_from_another_database_life_costs_one_reload(client, make_flag, clock, django_assert_num_queries):
    make_flag("beta", percentage="100")
    client.get("/labs/status/200", secure=True)
    registry.publish_version(987654)  # as if written against another database

    clock.now += 1.0
    client.get("/labs/status/200", secure=True)  # reloads once
    clock.now += 1.0
    with django_assert_num_queries(0):
        steady = client.get("/labs/status/200", secure=True)

    assert steady["X-Rollout"] == "beta"


def test_republishing_heals_a_lost_publish(make_flag):
    make_flag("beta")
    registry.publish_version(987654)  # a stale token, as after a publish lost to an outage

    healed = republish_version.apply().get()
    again = republish_version.apply().get()

    assert (healed, again) == (True, False)
    assert registry.token_version(registry.read_signal()) == registry.read_version()


def test_a_change_is_seen_at_the_next_check(client, make_flag, change_flag, clock):
    make_flag("beta", percentage="0")
    assert client.get("/labs/status/200", secure=True)["X-Rollout"] == ""

    change_flag("beta", percentage="100")
    clock.now += 1.0

    assert client.get("/labs/status/200", secure=True)["X-Rollout"] == "beta"


def _refuse_queries(execute, sql, params, many, context):
    raise OperationalError("database is down (test)")


DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def test_while_the_cache_is_away_checks_read_the_database_and_try_the_cache_now_and_then(
    client, make_flag, change_flag, clock, cache_calls
):
    make_flag("beta", percentage="100")
    client.get("/labs/status/200", secure=True)
    cache_calls.clear()
    away = {
        "default": {**DEAD_REDIS["default"], "OPTIONS": {**DEAD_REDIS["default"]["OPTIONS"], "IGNORE_EXCEPTIONS": True}}
    }

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", CACHES=away):
        clock.now += 1
        client.get("/labs/status/200", secure=True)
        first_check = list(cache_calls)
        change_flag("beta", percentage="0")  # its publish is lost: the cache is away
        cache_calls.clear()
        answers = []
        for _ in range(3):
            clock.now += 1
            answers.append(client.get("/labs/status/200", secure=True)["X-Rollout"])
        while_away = list(cache_calls)
        clock.now += registry.CACHE_RETRY_SECONDS
        client.get("/labs/status/200", secure=True)

    assert first_check == ["get", "add", "get"]
    assert (answers, while_away) == (["", "", ""], [])
    assert cache_calls == ["get", "add", "get"]


def test_database_and_cache_down_serves_the_last_good_copy(client, make_flag, change_flag, clock):
    make_flag("beta", percentage="100")
    assert client.get("/labs/status/200", secure=True)["X-Rollout"] == "beta"
    change_flag("beta", percentage="0")  # a newer version the broken worker cannot read

    failures_before = REGISTRY.get_sample_value("rollout_refresh_failures_total")

    clock.now += 5
    with (
        override_settings(REDIS_URL="redis://127.0.0.1:1/0", CACHES=DEAD_REDIS),
        connection.execute_wrapper(_refuse_queries),
    ):
        during = [client.get("/labs/status/200", secure=True) for _ in range(3)]
        clock.now += 5
        during.append(client.get("/labs/status/200", secure=True))

    assert [(r.status_code, r["X-Rollout"]) for r in during] == [(200, "beta")] * 4
    assert REGISTRY.get_sample_value("rollout_refresh_failures_total") == failures_before + 2
    clock.now += 5
    assert client.get("/labs/status/200", secure=True)["X-Rollout"] == ""


def test_no_copy_yet_and_no_database_means_every_flag_off(client, make_flag, clock):
    make_flag("beta", percentage="100")

    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/healthz", secure=True)

    assert (response.status_code, response["X-Rollout"]) == (200, "")


def test_decisions_are_counted_by_flag_and_cohort(client, make_flag, clock):
    make_flag("everyone", percentage="100")
    make_flag("nobody", percentage="0")
    before = {
        (flag, cohort): REGISTRY.get_sample_value("rollout_decisions_total", {"flag": flag, "cohort": cohort}) or 0
        for flag in ("everyone", "nobody")
        for cohort in ("in", "out")
    }

    for _ in range(3):
        client.get("/labs/status/200", secure=True)
    clock.now += 1.0
    client.get("/labs/status/200", secure=True)  # the tick adds the tally to the counter

    after = {
        key: REGISTRY.get_sample_value("rollout_decisions_total", dict(zip(("flag", "cohort"), key, strict=True))) or 0
        for key in before
    }
    assert {key: after[key] - before[key] for key in before} == {
        ("everyone", "in"): 3,
        ("everyone", "out"): 0,
        ("nobody", "in"): 0,
        ("nobody", "out"): 3,
    }
    assert REGISTRY.get_sample_value("rollout_flag_percentage", {"flag": "everyone"}) == 100.0


def test_gated_requests_are_observed_in_and_out_of_the_cohort(client, make_flag, make_user):
    ana, bo = make_user("ana"), make_user("bo")
    make_flag("beta", users=["ana"], deny_users=["bo"], path_prefixes=["/labs/status/"])

    def count(cohort: str, status_class: str) -> float:
        labels = {"flag": "beta", "cohort": cohort, "status_class": status_class}
        return REGISTRY.get_sample_value("rollout_requests_total", labels) or 0

    before = (count("in", "5xx"), count("out", "4xx"))
    client.force_login(ana)
    client.get("/labs/status/503", secure=True)
    client.force_login(bo)
    client.get("/labs/status/503", secure=True)  # refused at the gate: 404

    assert (count("in", "5xx") - before[0], count("out", "4xx") - before[1]) == (1, 1)


@pytest.mark.parametrize("debug", [False, True])
def test_the_visitor_cookie_is_what_set_cookie_writes(settings, monkeypatch, debug):
    settings.DEBUG = debug
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.25)
    ours, djangos = HttpResponse(), HttpResponse()

    set_visitor_cookie(ours, "a-visitor")
    djangos.set_cookie(
        VISITOR_COOKIE,
        sign_visitor("a-visitor"),
        max_age=VISITOR_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=not debug,
    )

    assert ours.cookies.output() == djangos.cookies.output()
