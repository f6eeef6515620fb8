"""Flag decisions for one request: ``request.rollout`` and ``flag_is_active``.

A ``RequestFlags`` decides each flag at most once per request (memoised), from the
process's in-process copy, for one subject: the signed-in user, else the anonymous
visitor's signed cookie id.
"""

import secrets
from collections.abc import Iterator, Mapping

from rollout import bucketing
from rollout.evaluation import OVERRIDDEN, UNKNOWN_DECISION, Decision, decide
from rollout.registry import FlagSet, registry

VISITOR_COOKIE = "rollout_visitor"
VISITOR_COOKIE_SALT = "rollout.visitor"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600

# Flags forced on or off by ``rollout.testing.override_flag``; empty in production.
overrides: dict[str, bool] = {}


class RequestFlags(Mapping):
    """``name → Decision`` for every known flag, decided lazily and once. Unknown names
    read as off (``reason == "unknown"``) instead of raising."""

    __slots__ = ("_flags", "_request", "_decisions", "_identity", "new_visitor_id", "anonymous")

    def __init__(self, request, flags: FlagSet):
        self._flags = flags
        self._request = request
        self._decisions: dict[str, Decision] = {}
        self._identity: tuple[int | None, str] | None = None
        self.new_visitor_id: str | None = None
        self.anonymous = False

    def _subject(self) -> tuple[int | None, str]:
        if self._identity is None:
            user = getattr(self._request, "user", None)
            if user is not None and user.is_authenticated:
                self._identity = (user.pk, bucketing.user_subject(user.pk))
            else:
                self.anonymous = True
                visitor = self._request.get_signed_cookie(VISITOR_COOKIE, default=None, salt=VISITOR_COOKIE_SALT)
                if not visitor:
                    visitor = self.new_visitor_id = secrets.token_urlsafe(16)
                self._identity = (None, bucketing.anonymous_subject(visitor))
        return self._identity

    def __getitem__(self, name: str) -> Decision:
        decision = self._decisions.get(name)
        if decision is not None:
            return decision
        if overrides and name in overrides:
            decision = Decision(overrides[name], OVERRIDDEN)
        else:
            rule = self._flags.rules.get(name)
            if rule is None:
                return UNKNOWN_DECISION
            user_id, subject = self._subject()
            decision = decide(rule, user_id, subject)
            self._flags.counters[name, decision.value].inc()
        self._decisions[name] = decision
        return decision

    def is_active(self, name: str) -> bool:
        return self[name].value

    def identify(self, user) -> None:
        """Decide for this signed-in user (found by the middleware before the view did)."""
        if self._identity is None:
            self._identity = (user.pk, bucketing.user_subject(user.pk))

    def active(self) -> list[str]:
        """Names of the flags that are on for this request, in name order."""
        names = sorted(self._flags.rules.keys() | overrides.keys()) if overrides else self._flags.rules
        return [name for name in names if self[name].value]

    def __iter__(self) -> Iterator[str]:
        return iter(self._flags.rules)

    def __len__(self) -> int:
        return len(self._flags.rules)

    def __contains__(self, name) -> bool:
        return name in self._flags.rules


def flags_for(request) -> RequestFlags:
    """The request's ``RequestFlags``, created on first use when the middleware did not."""
    flags = getattr(request, "rollout", None)
    if flags is None:
        flags = request.rollout = RequestFlags(request, registry.current())
    return flags


def flag_is_active(request, name: str) -> bool:
    """Whether flag ``name`` is on for this request's user or visitor. Unknown flags are
    off. Memoised per request; costs no query in steady state."""
    return flags_for(request)[name].value
