"""The rollout middleware: decides flags for the request, gates flagged URL prefixes,
names the active flags in ``X-Rollout``, and counts ramping flags' cohort traffic.

It reads only the in-process copy of the flags (``rollout.registry``): no query and no
cache call on a request in steady state, and the last good copy when the database or the
cache fails. Place it after ``AuthenticationMiddleware``.
"""

import logging
import time
from functools import lru_cache
from http.cookies import Morsel

from django.conf import settings
from django.db import DatabaseError
from django.http.response import HttpResponseRedirectBase
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from rest_framework.exceptions import AuthenticationFailed

from config import rollout_metrics
from finance.api.auth import HashedTokenAuthentication
from finance.api.problems import json_problem
from rollout import metrics, traffic
from rollout.decisions import (
    VISITOR_COOKIE,
    VISITOR_COOKIE_MAX_AGE,
    RequestFlags,
    overrides,
    sign_visitor,
    signed_in_user,
)
from rollout.registry import registry

logger = logging.getLogger(__name__)

HEADER = "X-Rollout"


class TemporaryRedirect(HttpResponseRedirectBase):
    """307: the client repeats the same method and body at the fallback URL."""

    status_code = 307


@lru_cache(maxsize=4)
def _visitor_morsel(now: int, secure: bool) -> Morsel:
    # The visitor cookie's attributes as ``set_cookie`` would set them one by one, built
    # once a second instead; a first visit copies it and only adds the value.
    morsel = Morsel()
    morsel.update(
        {
            "expires": http_date(now + VISITOR_COOKIE_MAX_AGE),
            "max-age": VISITOR_COOKIE_MAX_AGE,
            "path": "/",
            "secure": secure,
            "httponly": True,
            "samesite": "Lax",
        }
    )
    return morsel


def set_visitor_cookie(response, visitor: str) -> None:
    """Issue the signed visitor cookie: the same ``Set-Cookie`` as
    ``response.set_cookie(VISITOR_COOKIE, ..., max_age=..., httponly=True, samesite="Lax",
    secure=not DEBUG)`` (a test checks), for less work."""
    # Morsel.copy() without its __init__, which sets every attribute only to overwrite it.
    morsel = Morsel.__new__(Morsel)
    dict.update(morsel, _visitor_morsel(int(time.time()), not settings.DEBUG))
    value = sign_visitor(visitor)  # base64url and ":", which a cookie needs no quoting for
    morsel.set(VISITOR_COOKIE, value, value)
    response.cookies[VISITOR_COOKIE] = morsel


def _token_user(request):
    """The user of the request's API token, or ``None``. API clients authenticate in the
    view (DRF), after this middleware; a gated API path needs their user now, or they would
    be bucketed as anonymous visitors. The lookup is kept on the request for DRF's turn."""
    try:
        found = HashedTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


class RolloutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        flags = registry.current()
        decisions = request.rollout = RequestFlags(request, flags)
        path = request.path_info
        gating = (
            [rule for rule in flags.gating if rule.gates(path)]
            if flags.gate_prefixes and path.startswith(flags.gate_prefixes)
            else ()
        )
        response = self._gate(request, decisions, gating) if gating else None
        if response is None:
            response = self.get_response(request)
        on = decisions.active()
        active = response[HEADER] = ",".join(on)
        if not overrides:
            metrics.decision_tally.record(active)
        if decisions.anonymous:
            if response.has_header("Vary"):
                patch_vary_headers(response, ("Cookie",))
            else:
                response.headers["Vary"] = "Cookie"
            if decisions.new_visitor_id:
                set_visitor_cookie(response, decisions.new_visitor_id)
        if (flags.ramping or gating) and not response.streaming:
            self._observe(response, decisions, on, flags.ramping, gating, time.perf_counter() - started)
        return response

    def _observe(self, response, decisions: RequestFlags, on: list[str], ramping, gating, seconds: float) -> None:
        # The guard's counts, for ramping flags' cohorts; and for flags that gated this
        # path, the outcome in and out of the cohort, for the rollout dashboard.
        status = response.status_code
        if ramping:
            now = traffic.wall_clock()
            for rule in ramping:
                if rule.name in on:
                    traffic.buffer.record(rule.name, error=status >= 500, latency_ms=seconds * 1000, at=now)
        for rule in gating:
            rollout_metrics.observe_request(
                flag=rule.name, in_cohort=decisions[rule.name].value, status=status, seconds=seconds
            )

    def _gate(self, request, decisions: RequestFlags, gating):
        """The gate's refusal for an out-of-cohort request to a gated path, else None."""
        if "HTTP_AUTHORIZATION" in request.META and signed_in_user(request) is None:
            try:
                token_user = _token_user(request)
            except DatabaseError:
                # Who is asking cannot be told, so neither can the gate's answer.
                logger.warning("rollout gate: the API token could not be looked up", exc_info=True)
                response = json_problem(
                    request, 503, "Service unavailable", "the database is not answering; retry shortly", "unavailable"
                )
                response["Retry-After"] = "2"
                return response
            if token_user is not None:
                decisions.identify(token_user)
        for rule in gating:
            if decisions[rule.name].value:
                continue
            logger.debug("rollout gate closed", extra={"flag": rule.name, "path": request.path_info})
            if rule.fallback_url:
                return TemporaryRedirect(rule.fallback_url)
            return json_problem(request, 404, "Not found", f"nothing at {request.path}", "not-found")
        return None
