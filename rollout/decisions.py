"""Flag decisions for one request: ``request.rollout`` and ``flag_is_active``.

A ``RequestFlags`` decides each flag at most once per request (memoised), from the
process's in-process copy, for one subject: the signed-in user, else the anonymous
visitor's signed cookie id.
"""

import hmac
import logging
import secrets
from collections.abc import Iterator, Mapping
from functools import lru_cache
from hashlib import sha256

from django.conf import settings
from django.core import signing
from django.db import DatabaseError

from rollout import bucketing
from rollout.evaluation import OVERRIDDEN, UNKNOWN_DECISION, Decision, active_names, decide
from rollout.registry import FlagSet, registry

logger = logging.getLogger(__name__)

VISITOR_COOKIE = "rollout_visitor"
VISITOR_COOKIE_SALT = "rollout.visitor"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600

# Subjects whose answers a worker keeps until the flags change.
MEMO_SIZE = 4096

# Flags forced on or off by ``rollout.testing.override_flag``; empty in production.
overrides: dict[str, bool] = {}


@lru_cache(maxsize=2)
def _visitor_hmac(secret_key: str) -> hmac.HMAC:
    # Django's Signer derives this key on every call (salted_hmac's first step); here it
    # is derived and keyed once per secret, and each signature starts from a copy.
    return hmac.new(sha256(f"{VISITOR_COOKIE_SALT}signer{secret_key}".encode()).digest(), digestmod=sha256)


def sign_visitor(visitor: str) -> str:
    """The cookie value for a visitor id: the id and its HMAC under SECRET_KEY, exactly as
    ``signing.Signer(salt=VISITOR_COOKIE_SALT).sign`` writes it (a test checks), at a
    fraction of its cost: a first visit pays for it inside the middleware's budget."""
    signature = _visitor_hmac(settings.SECRET_KEY).copy()
    signature.update(visitor.encode())
    return f"{visitor}:{signing.b64_encode(signature.digest()).decode()}"


@lru_cache(maxsize=4096)
def visitor_id(cookie: str | None) -> str | None:
    """The visitor id in a signed cookie, or ``None`` if absent or forged. Memoised:
    checking the signature costs more than deciding every flag, and a returning visitor
    sends the same cookie on every request."""
    if not cookie:
        return None
    try:
        return signing.Signer(salt=VISITOR_COOKIE_SALT).unsign(cookie)
    except signing.BadSignature:
        return None


def signed_in_user(request):
    """The request's signed-in user, or ``None``: also when the session cannot be read
    because the database is down, since deciding flags must never fail a request (the
    user is then decided as an anonymous visitor)."""
    user = getattr(request, "user", None)
    if user is None:
        return None
    try:
        return user if user.is_authenticated else None
    except DatabaseError:
        logger.warning("rollout: the session could not be read; deciding as a visitor", exc_info=True)
        return None


class RequestFlags(Mapping):
    """``name → Decision`` for every known flag, decided lazily and once. Unknown names
    read as off (``reason == "unknown"``) instead of raising."""

    __slots__ = ("_flags", "_request", "_decisions", "_identity", "new_visitor_id", "anonymous")

    def __init__(self, request, flags: FlagSet):
        self._flags = flags
        self._request = request
        self._decisions: dict[str, Decision] = {}
        self._identity: tuple[int | None, bytes] | None = None
        self.new_visitor_id: str | None = None
        self.anonymous = False

    def _subject(self) -> tuple[int | None, bytes]:
        if self._identity is None:
            user = signed_in_user(self._request)
            if user is not None:
                self.identify(user)
            else:
                self.anonymous = True
                visitor = visitor_id(self._request.COOKIES.get(VISITOR_COOKIE))
                if not visitor:
                    visitor = self.new_visitor_id = secrets.token_urlsafe(16)
                self._identity = (None, bucketing.anonymous_subject(visitor).encode())
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
            user_id, subject = self._identity or self._subject()
            decision = decide(rule, user_id, subject)
        self._decisions[name] = decision
        return decision

    def is_active(self, name: str) -> bool:
        return self[name].value

    def identify(self, user) -> None:
        """Decide for this signed-in user (also one the middleware found before the view)."""
        if self._identity is None:
            self._identity = (user.pk, bucketing.user_subject(user.pk).encode())

    def active(self) -> list[str]:
        """Names of the flags that are on for this request, in name order."""
        if overrides:
            return [name for name in sorted(self._flags.rules.keys() | overrides.keys()) if self[name].value]
        # The hot path: a subject seen since the flags last changed is answered from the
        # memo; otherwise one pass over the flags. Single decisions (``self[name]``) are
        # made only when asked for.
        user_id, subject = self._identity or self._subject()
        memo = self._flags.memo
        on = memo.get(subject)
        if on is None:
            on = active_names(self._flags.table, user_id, subject)
            if len(memo) >= MEMO_SIZE:
                memo.clear()  # crude but lock-free; a busy worker refills it within a second
            memo[subject] = on
        return on

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
