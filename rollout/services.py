"""Every change to a flag — from the admin, the API, the ramp guard or a deleted user —
goes through this module: validated, applied under a row lock, recorded in the audit log
with who, when, old → new, why and from where, and the flag-set version bumped, all in one
transaction. No other code writes a flag.
"""

import copy
import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from finance.domain.errors import NotFound, PreconditionFailed, Problems, RuleViolation, StateConflict
from rollout import metrics, ramp, traffic
from rollout.models import ChangeSource, Flag, FlagChange, FlagSetVersion, RampStatus
from rollout.registry import publish_version, registry

logger = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
PREFIX = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,199}$")
FALLBACK = re.compile(r"^(/[^\s]*|https?://[^\s/]+[^\s]*)$")
# Paths no flag may gate: an operator must never lock the admin, the flag API or the
# probes away — least of all from themselves.
PROTECTED_PATHS = ("/admin/", "/api/v1/rollout/", "/healthz", "/readyz", "/metrics")
MAX_PREFIXES = 20
MAX_REASON = 2000
MAX_DESCRIPTION = 2000
RAMP_ACTOR = "ramp-guard"
SYSTEM_ACTOR = "system"

FIELDS = (
    "description",
    "enabled",
    "percentage",
    "users",
    "groups",
    "deny_users",
    "deny_groups",
    "path_prefixes",
    "fallback_url",
    "ramp",
)
_LISTS = {"users": "users", "groups": "groups", "deny_users": "deny_users", "deny_groups": "deny_groups"}


def flag_state(flag: Flag) -> dict:
    """The flag's audited fields in their JSON form: what ``FlagChange.changes`` compares."""
    return {
        "description": flag.description,
        "enabled": flag.enabled,
        "percentage": f"{Decimal(flag.percentage):.2f}",
        "users": sorted(flag.users.values_list("username", flat=True)),
        "groups": sorted(flag.groups.values_list("name", flat=True)),
        "deny_users": sorted(flag.deny_users.values_list("username", flat=True)),
        "deny_groups": sorted(flag.deny_groups.values_list("name", flat=True)),
        "path_prefixes": list(flag.path_prefixes or []),
        "fallback_url": flag.fallback_url,
        "ramp": flag.ramp_plan,
        "ramp_status": flag.ramp_status,
        "ramp_stage": flag.ramp_stage,
    }


def _percentage(value, problems: Problems) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        problems.add("percentage", 'must be a decimal string such as "12.50"')
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add("percentage", 'must be a decimal string such as "12.50"')
        return None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        problems.add("percentage", "must be between 0 and 100")
        return None
    if number.as_tuple().exponent < -2:
        problems.add("percentage", "has more than two decimals")
        return None
    return number.quantize(Decimal("0.01"))


def _names(values, field: str, problems: Problems) -> list[str] | None:
    if isinstance(values, str) or not isinstance(values, Iterable):
        problems.add(field, "must be a list of names")
        return None
    names = list(values)
    if not all(isinstance(name, str) for name in names):
        problems.add(field, "must be a list of names")
        return None
    return sorted(set(names))


def _resolve(field: str, names: list[str], problems: Problems) -> list[int]:
    if field in ("users", "deny_users"):
        found = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
        kind = "user"
    else:
        found = dict(Group.objects.filter(name__in=names).values_list("name", "pk"))
        kind = "group"
    for name in names:
        if name not in found:
            problems.add(field, f"no {kind} named {name!r}")
    return [found[name] for name in names if name in found]


def _prefixes(values, problems: Problems) -> list[str] | None:
    prefixes = _names(values, "path_prefixes", problems)
    if prefixes is None:
        return None
    if len(prefixes) > MAX_PREFIXES:
        problems.add("path_prefixes", f"at most {MAX_PREFIXES} prefixes")
    for prefix in prefixes:
        if not PREFIX.match(prefix):
            problems.add("path_prefixes", f"{prefix!r} is not a URL path starting with '/'")
        elif any(path.startswith(prefix) or prefix.startswith(path) for path in PROTECTED_PATHS):
            problems.add("path_prefixes", f"{prefix!r} would gate {', '.join(PROTECTED_PATHS)}, which stay open")
    return prefixes


def _check_reason(reason, problems: Problems) -> str:
    if not isinstance(reason, str) or not reason.strip():
        problems.add("reason", "say why: every change needs a reason")
        return ""
    if len(reason) > MAX_REASON:
        problems.add("reason", f"at most {MAX_REASON} characters")
    return reason.strip()


def _apply_ramp(flag: Flag, value, values: dict, now: datetime, problems: Problems) -> None:
    if value is None:
        flag.ramp_plan, flag.ramp_status, flag.ramp_stage, flag.ramp_stage_started_at = None, RampStatus.NONE, 0, None
        return
    if isinstance(value, dict) and set(value) == {"status"}:
        target = value["status"]
        if target == RampStatus.PAUSED:
            if flag.ramp_status != RampStatus.RUNNING:
                raise StateConflict(f"only a running ramp can be paused; this one is {flag.ramp_status or 'absent'}")
            flag.ramp_status = RampStatus.PAUSED
        elif target == RampStatus.RUNNING:
            if flag.ramp_status != RampStatus.PAUSED:
                raise StateConflict(f"only a paused ramp can be resumed; this one is {flag.ramp_status or 'absent'}")
            # The stage's hold and traffic window start again from the resume.
            flag.ramp_status, flag.ramp_stage_started_at = RampStatus.RUNNING, now
        else:
            problems.add("ramp.status", "must be 'paused' or 'running'")
        return
    try:
        plan = ramp.parse_plan(value)
    except RuleViolation as violation:
        for error in violation.errors:
            problems.add(error.field, error.message)
        return
    if "percentage" in values:
        problems.add("percentage", "a ramp plan sets the percentage; send one or the other")
        return
    flag.ramp_plan = plan.to_json()
    flag.ramp_status, flag.ramp_stage, flag.ramp_stage_started_at = RampStatus.RUNNING, 0, now
    flag.percentage = plan.stages[0].percentage


def _apply(flag: Flag, values: dict, now: datetime) -> dict[str, list[int]]:
    """Set ``values`` on the flag (not saved) after checking every rule; returns the
    many-to-many lists to write. Raises ``RuleViolation`` naming every bad field."""
    problems = Problems()
    for key in sorted(set(values) - set(FIELDS)):
        problems.add(key, "unknown field")
    relations: dict[str, list[int]] = {}
    if "description" in values:
        description = values["description"]
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            problems.add("description", f"must be text of at most {MAX_DESCRIPTION} characters")
        else:
            flag.description = description
    if "enabled" in values:
        if not isinstance(values["enabled"], bool):
            problems.add("enabled", "must be true or false")
        else:
            flag.enabled = values["enabled"]
    if "ramp" in values:
        _apply_ramp(flag, values["ramp"], values, now, problems)
    if "percentage" in values and not (isinstance(values.get("ramp"), dict) and "stages" in values["ramp"]):
        percentage = _percentage(values["percentage"], problems)
        if percentage is not None and percentage != flag.percentage:
            if flag.ramp_status in (RampStatus.RUNNING, RampStatus.PAUSED):
                raise StateConflict(
                    f"a {flag.ramp_status} ramp plan owns the percentage; "
                    "remove the plan (ramp: null) to set it by hand"
                )
            flag.percentage = percentage
    for field in _LISTS:
        if field in values:
            names = _names(values[field], field, problems)
            if names is not None:
                relations[field] = _resolve(field, names, problems)
    if "path_prefixes" in values:
        prefixes = _prefixes(values["path_prefixes"], problems)
        if prefixes is not None:
            flag.path_prefixes = prefixes
    if "fallback_url" in values:
        url = values["fallback_url"]
        if not isinstance(url, str) or len(url) > 500 or (url and not FALLBACK.match(url)):
            problems.add("fallback_url", "must be empty, a path starting with '/' or an http(s) URL")
        else:
            flag.fallback_url = url
    if flag.fallback_url and not flag.path_prefixes:
        problems.add("fallback_url", "only a flag that gates path prefixes has a fallback URL")
    if flag.fallback_url and any(flag.fallback_url.startswith(prefix) for prefix in flag.path_prefixes or ()):
        problems.add("fallback_url", "must lie outside the flag's own path prefixes, or requests would loop")
    problems.raise_if_any("invalid flag")
    return relations


def bump_flag_set_version() -> None:
    """Move the flag-set version in the caller's transaction and, once it commits, tell
    every worker. Call it for any change that alters a decision."""
    if not FlagSetVersion.objects.filter(pk=1).update(version=F("version") + 1):
        FlagSetVersion.objects.get_or_create(pk=1, defaults={"version": 0})
        FlagSetVersion.objects.filter(pk=1).update(version=F("version") + 1)
    version = FlagSetVersion.objects.filter(pk=1).values_list("version", flat=True).get()

    def published() -> None:
        publish_version(version)
        registry.invalidate()

    transaction.on_commit(published)


def _record(flag: Flag, old: dict, *, actor: str, source: str, reason: str, now: datetime) -> bool:
    new = flag_state(flag)
    changes = {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}
    if not changes:
        return False
    flag.version += 1
    flag.updated_at, flag.updated_by = now, actor
    flag.save()
    FlagChange.objects.create(
        flag=flag, version=flag.version, at=now, actor=actor, source=source, reason=reason, changes=changes
    )
    bump_flag_set_version()
    if "percentage" in changes or "enabled" in changes:
        logger.info(
            "rollout flag changed",
            extra={
                "flag": flag.name,
                "version": flag.version,
                "actor": actor,
                "source": source,
                "fields": sorted(changes),
            },
        )
    return True


def _write_relations(flag: Flag, relations: dict[str, list[int]]) -> None:
    for field, ids in relations.items():
        getattr(flag, field).set(ids)


def flag_create(*, name: str, reason: str, actor: str, source: str, values: dict | None = None) -> Flag:
    """Create a flag (off for everyone unless ``values`` say otherwise) and audit it as
    version 1. A taken name is a 409."""
    values = values or {}
    problems = Problems()
    if not isinstance(name, str) or not NAME.match(name):
        problems.add("name", "1–100 letters, digits, '-' or '_'")
    reason = _check_reason(reason, problems)
    problems.raise_if_any("invalid flag")
    now = timezone.now()
    with transaction.atomic():
        if Flag.objects.filter(name=name).exists():
            raise StateConflict(f"a flag named {name!r} exists")
        flag = Flag(name=name, created_at=now, updated_at=now, updated_by=actor, version=0)
        relations = _apply(flag, values, now)
        try:
            with transaction.atomic():
                flag.save()
        except IntegrityError:
            raise StateConflict(f"a flag named {name!r} exists") from None
        _write_relations(flag, relations)
        empty = dict.fromkeys(flag_state(flag))
        _record(flag, empty, actor=actor, source=source, reason=reason, now=now)
    return flag


def flag_update(*, name: str, values: dict, reason: str, actor: str, source: str, if_match: int | None = None) -> Flag:
    """Change the named flag's ``values`` (only the fields given). With ``if_match``, a
    flag at another version is a 412; without it the change applies to the current flag
    under a row lock, so concurrent edits of different fields both land. A change that
    changes nothing records nothing."""
    problems = Problems()
    reason = _check_reason(reason, problems)
    problems.raise_if_any("invalid change")
    now = timezone.now()
    with transaction.atomic():
        try:
            flag = Flag.objects.select_for_update().get(name=name)
        except Flag.DoesNotExist:
            raise NotFound(f"no flag named {name!r}") from None
        if if_match is not None and flag.version != if_match:
            raise PreconditionFailed(if_match, flag.version)
        old = flag_state(flag)
        relations = _apply(flag, values, now)
        _write_relations(flag, relations)
        _record(flag, old, actor=actor, source=source, reason=reason, now=now)
    return flag


def flag_history(*, name: str):
    """The flag's audit log, newest first (a queryset, for pagination)."""
    try:
        flag = Flag.objects.get(name=name)
    except Flag.DoesNotExist:
        raise NotFound(f"no flag named {name!r}") from None
    return FlagChange.objects.filter(flag=flag)


def remove_from_lists(*, user=None, group=None) -> None:
    """Take a user or group that is being deleted off every flag's lists, audited, in
    the deleting transaction (the database would otherwise drop them silently)."""
    if user is not None:
        flags = Flag.objects.filter(users=user) | Flag.objects.filter(deny_users=user)
        what, fields, name = "user", ("users", "deny_users"), user.get_username()
    else:
        flags = Flag.objects.filter(groups=group) | Flag.objects.filter(deny_groups=group)
        what, fields, name = "group", ("groups", "deny_groups"), group.name
    for flag_name in sorted(set(flags.values_list("name", flat=True))):
        flag = Flag.objects.get(name=flag_name)
        state = flag_state(flag)
        values = {field: [n for n in state[field] if n != name] for field in fields}
        flag_update(
            name=flag_name,
            values=values,
            reason=f"{what} {name!r} deleted",
            actor=SYSTEM_ACTOR,
            source=ChangeSource.SYSTEM,
        )


def ramp_guard(*, now: datetime | None = None) -> dict[str, str]:
    """Judge every running ramp of an enabled flag once against its cohort's traffic
    since the stage began: advance, complete, hold, or roll back to 0 % on a breach.
    Returns {flag: action}."""
    now = now or timezone.now()
    store = traffic.store()
    actions: dict[str, str] = {}
    for flag in Flag.objects.filter(ramp_status=RampStatus.RUNNING, enabled=True).order_by("name"):
        plan = ramp.parse_plan(flag.ramp_plan)
        seen = store.window(flag.name, flag.ramp_stage_started_at, now)
        held = (now - flag.ramp_stage_started_at).total_seconds()
        verdict = ramp.judge(plan, flag.ramp_stage, held, seen)
        if verdict.action != ramp.HOLD:
            _act(flag, plan, verdict, now)
        actions[flag.name] = verdict.action
    store.purge(now - timedelta(seconds=traffic.RETENTION_SECONDS))
    return actions


def _act(seen: Flag, plan: ramp.RampPlan, verdict: ramp.Verdict, now: datetime) -> None:
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(pk=seen.pk)
        if (flag.ramp_status, flag.ramp_stage, flag.ramp_stage_started_at) != (
            RampStatus.RUNNING,
            seen.ramp_stage,
            seen.ramp_stage_started_at,
        ):
            return  # an operator paused or changed the ramp meanwhile; their word wins
        old = flag_state(flag)
        if verdict.action == ramp.ROLL_BACK:
            flag.percentage, flag.ramp_status = Decimal(0), RampStatus.ROLLED_BACK
        elif verdict.action == ramp.COMPLETE:
            flag.ramp_status = RampStatus.COMPLETED
        else:
            flag.ramp_stage += 1
            flag.percentage = plan.stages[flag.ramp_stage].percentage
            flag.ramp_stage_started_at = now
        _record(flag, old, actor=RAMP_ACTOR, source=ChangeSource.RAMP, reason=verdict.detail, now=now)
        transaction.on_commit(lambda: _announce(flag, verdict))


def _announce(flag: Flag, verdict: ramp.Verdict) -> None:
    extra = {"flag": flag.name, "stage": flag.ramp_stage + 1, "percentage": f"{flag.percentage:.2f}"}
    if verdict.action == ramp.ROLL_BACK:
        metrics.RAMP_ROLLBACKS.labels(flag=flag.name).inc()
        logger.error("rollout ramp rolled back", extra={**extra, "reason": verdict.detail})
    elif verdict.action == ramp.COMPLETE:
        metrics.RAMP_COMPLETIONS.labels(flag=flag.name).inc()
        logger.info("rollout ramp completed", extra={**extra, "reason": verdict.detail})
    else:
        metrics.RAMP_ADVANCES.labels(flag=flag.name).inc()
        logger.info("rollout ramp advanced", extra={**extra, "reason": verdict.detail})


def flag_check(*, flag: Flag | None, values: dict) -> None:
    """Raise what ``flag_create``/``flag_update`` would raise for ``values`` on ``flag``
    (``None``: a new flag), changing nothing. Lets a form show errors beside its fields."""
    probe = copy.copy(flag) if flag is not None else Flag()
    _apply(probe, values, timezone.now())
