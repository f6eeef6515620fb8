"""Deciding one flag for one subject: plain Python, no Django.

Precedence: kill switch > deny list > allow list > percentage. The lists hold user ids,
with the members of the listed groups already folded in when the in-process copy was
built, so a decision never needs a query.
"""

from dataclasses import dataclass, field
from hashlib import sha256
from struct import Struct
from typing import NamedTuple

from rollout import bucketing

DISABLED = "disabled"
DENIED = "denied"
ALLOWED = "allowed"
IN_COHORT = "in_cohort"
OUT_OF_COHORT = "out_of_cohort"
UNKNOWN = "unknown"
OVERRIDDEN = "overridden"


class Decision(NamedTuple):
    """One flag's answer for one request: ``value``, why (``reason``), and the subject's
    bucket (``None`` when the percentage was not consulted)."""

    value: bool
    reason: str
    bucket: int | None = None


_DISABLED = Decision(False, DISABLED)
_DENIED = Decision(False, DENIED)
_ALLOWED = Decision(True, ALLOWED)
UNKNOWN_DECISION = Decision(False, UNKNOWN)


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Everything needed to decide a flag, frozen when the in-process copy is built."""

    name: str
    salt: str
    enabled: bool
    threshold: int
    allow_user_ids: frozenset[int] = frozenset()
    deny_user_ids: frozenset[int] = frozenset()
    path_prefixes: tuple[str, ...] = ()
    fallback_url: str = ""
    ramp_running: bool = False
    percentage: str = "0.00"
    key_prefix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_prefix", bucketing.key_prefix(self.salt))

    def gates(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.path_prefixes)


def decide(rule: FlagRule, user_id: int | None, subject: bytes) -> Decision:
    """The decision for a subject: ``user_id`` is the signed-in user's id (``None`` for
    an anonymous visitor) and ``subject`` the encoded bucketing key."""
    if not rule.enabled:
        return _DISABLED
    if user_id is not None:
        if user_id in rule.deny_user_ids:
            return _DENIED
        if user_id in rule.allow_user_ids:
            return _ALLOWED
    # bucketing.bucket_of, inlined: this line runs for every flag on every request.
    value = int.from_bytes(sha256(rule.key_prefix + subject).digest()[:8], "big") % bucketing.BUCKETS
    if value < rule.threshold:
        return Decision(True, IN_COHORT, value)
    return Decision(False, OUT_OF_COHORT, value)


def answer_table(rules) -> tuple:
    """What ``active_names`` needs of each rule that can be on, as plain tuples; the hash
    state after the rule's key prefix is computed here, once per flag set."""
    return tuple(
        (rule.name, sha256(rule.key_prefix), rule.threshold, rule.allow_user_ids, rule.deny_user_ids)
        for rule in rules
        if rule.enabled
    )


# The first 8 bytes of a digest as a big-endian integer, as ``bucketing.bucket_of`` reads them.
_leading_u64 = Struct(">Q").unpack_from


def active_names(table: tuple, user_id: int | None, subject: bytes) -> list[str]:
    """The names whose ``decide(...).value`` is true, in one pass over an ``answer_table``:
    the same precedence without building a ``Decision`` per flag, and without hashing when
    the percentage is 0 or 100 (the bucket cannot change the answer then). It runs for
    every flag on a subject's first request, so it stays this terse."""
    on = []
    for name, keyed, threshold, allow, deny in table:
        if user_id is not None:
            if user_id in deny:
                continue
            if user_id in allow:
                on.append(name)
                continue
        if threshold >= bucketing.BUCKETS:
            on.append(name)
        elif threshold > 0:
            digest = keyed.copy()
            digest.update(subject)
            if _leading_u64(digest.digest())[0] % bucketing.BUCKETS < threshold:
                on.append(name)
    return on
