"""Deciding one flag for one subject: plain Python, no Django.

Precedence: kill switch > deny list > allow list > percentage. The lists hold user ids,
with the members of the listed groups already folded in when the in-process copy was
built, so a decision never needs a query.
"""

from dataclasses import dataclass

from rollout import bucketing

DISABLED = "disabled"
DENIED = "denied"
ALLOWED = "allowed"
IN_COHORT = "in_cohort"
OUT_OF_COHORT = "out_of_cohort"
UNKNOWN = "unknown"
OVERRIDDEN = "overridden"


@dataclass(frozen=True, slots=True)
class Decision:
    """One flag's answer for one request: ``value``, why (``reason``), and the subject's
    bucket (``None`` when the percentage was not consulted)."""

    value: bool
    reason: str
    bucket: int | None = None


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Everything the middleware needs to decide a flag, frozen at load time."""

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

    def gates(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.path_prefixes)


def decide(rule: FlagRule, user_id: int | None, subject: str) -> Decision:
    """The decision for a subject: ``user_id`` is the signed-in user's id (``None`` for
    an anonymous visitor) and ``subject`` the bucketing key."""
    if not rule.enabled:
        return Decision(False, DISABLED)
    if user_id is not None:
        if user_id in rule.deny_user_ids:
            return Decision(False, DENIED)
        if user_id in rule.allow_user_ids:
            return Decision(True, ALLOWED)
    value = bucketing.bucket(rule.salt, subject)
    if value < rule.threshold:
        return Decision(True, IN_COHORT, value)
    return Decision(False, OUT_OF_COHORT, value)


UNKNOWN_DECISION = Decision(False, UNKNOWN)
