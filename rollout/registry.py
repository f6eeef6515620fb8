"""The in-process copy of every flag, and how it stays current.

A request reads ``registry.current()``: a frozen ``FlagSet`` held in memory. At most once
a second the registry reads the published flag-set version token — one cache ``GET`` with
Redis, one small file read in the embedded mode — and reloads all flags from the database
only when the token differs from the one its copy was loaded under. Every change publishes
a new token after it commits, and a beat task republishes the database's version every
30 s, which heals a publish lost to a cache outage. In steady state a request therefore
costs no query and no cache call; a change reaches every worker within about a second.
Any failure while checking or reloading leaves the last good copy in place: the registry
never raises.
"""

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction

from rollout import bucketing, metrics, traffic
from rollout.evaluation import FlagRule, answer_table
from rollout.models import Flag, FlagSetVersion, RampStatus

logger = logging.getLogger(__name__)

VERSION_KEY = "rollout:version"
CHECK_INTERVAL_SECONDS = 1.0
# While the cache does not answer, checks read only the database's version, and try the
# cache again after this long: each try may wait out the cache's timeouts (0.5 s a call
# in production), and a check runs on a request.
CACHE_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class FlagSet:
    """Every flag's rule at one flag-set version (``None``: nothing loaded yet)."""

    version: int | None = None
    rules: dict[str, FlagRule] = field(default_factory=dict)
    gating: tuple[FlagRule, ...] = ()
    ramping: tuple[FlagRule, ...] = ()
    # Every gated prefix at once: most paths are ruled out by one str.startswith.
    gate_prefixes: tuple[str, ...] = ()
    # The enabled rules as ``evaluation.active_names`` reads them.
    table: tuple = ()
    # subject → the names active for it: a subject's answers cannot change until the
    # flags do, and a new FlagSet starts with an empty memo.
    memo: dict = field(default_factory=dict, compare=False)


def _members_of(group_ids: set[int]) -> dict[int, set[int]]:
    through = get_user_model().groups.through
    members: dict[int, set[int]] = {}
    for group_id, user_id in through.objects.filter(group_id__in=group_ids).values_list("group_id", "user_id"):
        members.setdefault(group_id, set()).add(user_id)
    return members


def _pairs(relation) -> dict[int, set[int]]:
    through = relation.through
    source = relation.field.m2m_field_name()
    target = relation.field.m2m_reverse_field_name()
    pairs: dict[int, set[int]] = {}
    for flag_id, other_id in through.objects.values_list(f"{source}_id", f"{target}_id"):
        pairs.setdefault(flag_id, set()).add(other_id)
    return pairs


def read_version() -> int:
    """The flag-set version in the database (0 before the first change)."""
    return FlagSetVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def load_flag_set() -> FlagSet:
    """Read every flag from the database into a new ``FlagSet``. The version is read
    first: a change committing meanwhile makes the copy newer than its version, and the
    next check loads again."""
    with transaction.atomic():
        version = read_version()
        flags = list(Flag.objects.all())
        allow_users, allow_groups = _pairs(Flag.users), _pairs(Flag.groups)
        deny_users, deny_groups = _pairs(Flag.deny_users), _pairs(Flag.deny_groups)
        members = _members_of(set().union(*allow_groups.values(), *deny_groups.values()))

    def expand(flag_id: int, users: dict[int, set[int]], groups: dict[int, set[int]]) -> frozenset[int]:
        ids = set(users.get(flag_id, ()))
        for group_id in groups.get(flag_id, ()):
            ids |= members.get(group_id, set())
        return frozenset(ids)

    rules = {}
    for flag in flags:
        rules[flag.name] = FlagRule(
            name=flag.name,
            salt=flag.salt,
            enabled=flag.enabled,
            threshold=bucketing.threshold(flag.percentage),
            allow_user_ids=expand(flag.pk, allow_users, allow_groups),
            deny_user_ids=expand(flag.pk, deny_users, deny_groups),
            path_prefixes=tuple(flag.path_prefixes or ()),
            fallback_url=flag.fallback_url,
            ramp_running=flag.ramp_status == RampStatus.RUNNING,
            percentage=f"{flag.percentage:.2f}",
        )
    return flag_set(version, rules)


def flag_set(version: int | None, rules: dict[str, FlagRule]) -> FlagSet:
    """A ``FlagSet`` of these rules, with its lookups precomputed."""
    return FlagSet(
        version=version,
        rules=rules,
        gating=tuple(rule for rule in rules.values() if rule.path_prefixes),
        ramping=tuple(rule for rule in rules.values() if rule.ramp_running),
        gate_prefixes=tuple(prefix for rule in rules.values() for prefix in rule.path_prefixes),
        table=answer_table(rules.values()),
    )


def _cache_is_shared() -> bool:
    return bool(settings.REDIS_URL)


def _signal_file() -> Path | None:
    # The embedded mode has no shared cache, but its workers share the SQLite file's
    # folder. (Postgres without Redis has neither: each check reads the database.)
    database = settings.DATABASES["default"]
    if "sqlite" not in database["ENGINE"]:
        return None
    return Path(f"{database['NAME']}.rollout-version")


def read_signal() -> str | None:
    """The version token last published, or ``None`` when there is none."""
    if _cache_is_shared():
        token = cache.get(VERSION_KEY)
        return None if token is None else str(token)
    path = _signal_file()
    if path is None:
        return None
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None


def _readable_signal() -> str | None:
    try:
        return read_signal()
    except Exception:  # an unreachable cache is a missing token
        logger.warning("rollout version token not readable", exc_info=True)
        return None


def token_version(token: str | None) -> int | None:
    """The flag-set version a token names."""
    head = (token or "").split(":", 1)[0]
    return int(head) if head.isdigit() else None


def publish_version(version: int, *, only_if_absent: bool = False) -> None:
    """Tell every worker about the flag-set version: after a change commits, by the
    periodic republish (which heals a publish lost to a cache outage), or — with
    ``only_if_absent`` — by a worker that found no token at all. Never raises.

    The token is ``<version>:<nonce>``: unique per publish, so a version number seen in an
    earlier life of the database (a restore) still reads as a change."""
    token = f"{version}:{secrets.token_hex(4)}"
    try:
        if _cache_is_shared():
            write = cache.add if only_if_absent else cache.set
            write(VERSION_KEY, token, None)
            return
        path = _signal_file()
        if path is None or (only_if_absent and path.exists()):
            return
        scratch = path.with_name(f"{path.name}.{os.getpid()}")
        scratch.write_text(token)
        os.replace(scratch, path)  # atomic: a reader sees the old token or the new one
    except Exception:  # workers fall back to the database, or the periodic republish heals it
        logger.warning("rollout version not published", extra={"version": version}, exc_info=True)


class FlagRegistry:
    """Holds this process's ``FlagSet`` and refreshes it at most once per interval."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, interval: float = CHECK_INTERVAL_SECONDS):
        self._clock = clock
        self._interval = interval
        self._flags = FlagSet()
        self._token: str | None = None
        self._next_check = 0.0
        self._cache_retry_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> FlagSet:
        """This process's copy, refreshed first if the interval has passed. Never raises."""
        if self._clock() >= self._next_check:
            self.refresh()
        return self._flags

    def invalidate(self) -> None:
        """Reload on the next ``current()`` (after a change made in this process)."""
        self._token = None
        self._next_check = 0.0

    def reset(self) -> None:
        """Forget the copy (tests)."""
        self._flags = FlagSet()
        self._cache_retry_at = 0.0
        self.invalidate()

    def refresh(self) -> None:
        # One thread refreshes; the others go on with the copy they have.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_check = self._clock() + self._interval
            self._check_version()
            metrics.decision_tally.flush(self._flags.rules)
            traffic.flush()
        finally:
            self._lock.release()

    def _check_version(self) -> None:
        try:
            token = self._current_token()
            if token != self._token or self._flags.version is None:
                fresh = load_flag_set()
                # The tally counted requests against the old flags: settle it first.
                metrics.decision_tally.flush(self._flags.rules)
                self._flags, self._token = fresh, token
                for rule in self._flags.rules.values():
                    metrics.PERCENTAGE.labels(flag=rule.name).set(float(rule.percentage) if rule.enabled else 0.0)
                    metrics.start_series(rule.name)
                logger.info(
                    "rollout flags loaded", extra={"version": self._flags.version, "flags": len(self._flags.rules)}
                )
        except Exception:  # serve the last good copy whatever went wrong; never fail a request
            metrics.REFRESH_FAILURES.inc()
            logger.warning(
                "rollout flags not refreshed; serving the last good copy",
                extra={"version": self._flags.version},
                exc_info=True,
            )
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()

    def _current_token(self) -> str:
        # A token that differs from the one this copy was loaded under means a change
        # (whatever its value: a token left over from another database life just costs
        # one reload). No token at all: the database answers and publishes one.
        if self._clock() < self._cache_retry_at:
            return f"{read_version()}:database"
        token = _readable_signal()
        if token is None:
            version = read_version()
            publish_version(version, only_if_absent=True)
            token = _readable_signal()
            if token is None:
                # Still none: the cache is away (or there is none to share). The
                # database's version is the token meanwhile, so a change is still
                # noticed within a check, and the cache is left alone for a while.
                self._cache_retry_at = self._clock() + CACHE_RETRY_SECONDS
                token = f"{version}:database"
        return token


registry = FlagRegistry()
