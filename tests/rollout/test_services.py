from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from finance.domain.errors import NotFound, PreconditionFailed, RuleViolation, StateConflict
from rollout import registry, services
from rollout.models import ChangeSource, Flag, FlagChange, RampStatus

pytestmark = pytest.mark.django_db

PLAN = {
    "stages": [{"percentage": "5", "hold_seconds": 60}, {"percentage": "100", "hold_seconds": 60}],
    "max_error_rate": "0.05",
    "max_p95_ms": 1000,
    "min_requests": 10,
}


def test_creating_a_flag_records_version_one_with_every_field(make_flag):
    flag = make_flag("beta", reason="launch beta", description="Beta UI", percentage="12.5")

    change = FlagChange.objects.get(flag=flag)
    assert (flag.version, change.version, change.actor, change.source, change.reason) == (
        1,
        1,
        "setup",
        "api",
        "launch beta",
    )
    assert change.changes["percentage"] == {"old": None, "new": "12.50"}
    assert change.changes["enabled"] == {"old": None, "new": True}
    assert len(flag.salt) == 32


def test_a_change_records_old_and_new_in_the_same_transaction(make_flag, change_flag, make_user):
    make_user("ana")
    make_flag("beta")

    flag = change_flag("beta", reason="ana tests it", percentage="50", users=["ana"])

    change = flag.changes.first()
    assert flag.version == 2
    assert change.changes == {
        "percentage": {"old": "0.00", "new": "50.00"},
        "users": {"old": [], "new": ["ana"]},
    }


def test_a_failing_change_writes_nothing(make_flag):
    make_flag("beta")

    with pytest.raises(RuleViolation):
        services.flag_update(
            name="beta", values={"percentage": "60", "users": ["nobody"]}, reason="x", actor="a", source="api"
        )

    flag = Flag.objects.get(name="beta")
    assert (flag.percentage, flag.version, flag.changes.count()) == (Decimal("0.00"), 1, 1)


def test_a_change_that_changes_nothing_records_nothing(make_flag, change_flag):
    make_flag("beta", percentage="10")

    flag = change_flag("beta", percentage="10.00")

    assert (flag.version, flag.changes.count()) == (1, 1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"percentage": "100.01"}, "percentage"),
        ({"percentage": "-1"}, "percentage"),
        ({"percentage": "1.234"}, "percentage"),
        ({"percentage": 5.5}, "percentage"),
        ({"enabled": "yes"}, "enabled"),
        ({"users": ["ghost"]}, "users"),
        ({"deny_groups": ["ghosts"]}, "deny_groups"),
        ({"path_prefixes": ["beta"]}, "path_prefixes"),
        ({"path_prefixes": ["/admin/"]}, "path_prefixes"),
        ({"path_prefixes": ["/"]}, "path_prefixes"),
        ({"path_prefixes": ["/api/"]}, "path_prefixes"),
        ({"fallback_url": "/old/"}, "fallback_url"),
        ({"path_prefixes": ["/beta/"], "fallback_url": "/beta/old"}, "fallback_url"),
        ({"path_prefixes": ["/beta/"], "fallback_url": "javascript:alert(1)"}, "fallback_url"),
        ({"ramp": {"stages": []}}, "ramp.stages"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_rule_violations_name_the_field(make_flag, values, field):
    make_flag("beta")

    with pytest.raises(RuleViolation) as raised:
        services.flag_update(name="beta", values=values, reason="try", actor="a", source="api")

    assert field in [e.field for e in raised.value.errors]


def test_every_change_needs_a_reason(make_flag):
    make_flag("beta")

    with pytest.raises(RuleViolation, match="reason"):
        services.flag_update(name="beta", values={"percentage": "5"}, reason="  ", actor="a", source="api")


def test_names_are_unique_and_well_formed(make_flag):
    make_flag("beta")

    with pytest.raises(StateConflict):
        make_flag("beta")
    with pytest.raises(RuleViolation, match="name"):
        make_flag("has space")


def test_if_match_on_an_old_version_is_refused(make_flag, change_flag):
    make_flag("beta")
    change_flag("beta", percentage="5")

    with pytest.raises(PreconditionFailed):
        services.flag_update(name="beta", values={"percentage": "6"}, reason="r", actor="a", source="api", if_match=1)


def test_unknown_flag_is_not_found():
    with pytest.raises(NotFound):
        services.flag_update(name="nope", values={}, reason="r", actor="a", source="api")


def test_every_change_bumps_the_flag_set_version(make_flag, change_flag):
    before = registry.read_version()

    make_flag("beta")
    change_flag("beta", enabled=False)

    assert registry.read_version() == before + 2


def test_group_membership_changes_bump_the_version_too(make_user):
    user = make_user("ana")
    before = registry.read_version()

    user.groups.add(Group.objects.create(name="testers"))

    assert registry.read_version() == before + 1


def test_deleting_a_listed_user_is_audited_on_the_flag(make_flag, make_user):
    user = make_user("ana")
    make_flag("beta", deny_users=["ana"])

    user.delete()

    change = Flag.objects.get(name="beta").changes.first()
    assert (change.actor, change.source, change.reason) == ("system", ChangeSource.SYSTEM, "user 'ana' deleted")
    assert change.changes == {"deny_users": {"old": ["ana"], "new": []}}


def test_deleting_a_listed_group_is_audited_on_the_flag(make_flag):
    group = Group.objects.create(name="testers")
    make_flag("beta", groups=["testers"])

    group.delete()

    assert Flag.objects.get(name="beta").changes.first().changes == {"groups": {"old": ["testers"], "new": []}}


def test_a_ramp_plan_starts_at_its_first_stage(make_flag, change_flag):
    make_flag("beta")

    flag = change_flag("beta", reason="ramp it", ramp=PLAN)

    assert (flag.ramp_status, flag.ramp_stage, flag.percentage) == (RampStatus.RUNNING, 0, Decimal("5.00"))
    assert flag.ramp_stage_started_at is not None


def test_a_running_ramp_owns_the_percentage(make_flag, change_flag):
    make_flag("beta", ramp=PLAN)

    with pytest.raises(StateConflict, match="owns the percentage"):
        change_flag("beta", percentage="40")
    with pytest.raises(RuleViolation, match="one or the other"):
        change_flag("beta", percentage="40", ramp=PLAN)


def test_pause_and_resume(make_flag, change_flag):
    make_flag("beta", ramp=PLAN)

    paused = change_flag("beta", reason="incident", ramp={"status": "paused"})
    with pytest.raises(StateConflict):
        change_flag("beta", ramp={"status": "paused"})
    resumed = change_flag("beta", reason="fixed", ramp={"status": "running"})

    assert (paused.ramp_status, resumed.ramp_status) == (RampStatus.PAUSED, RampStatus.RUNNING)
    assert resumed.ramp_stage_started_at > paused.ramp_stage_started_at
    assert [c.reason for c in resumed.changes.all()[:2]] == ["fixed", "incident"]


def test_removing_a_plan_hands_the_percentage_back(make_flag, change_flag):
    make_flag("beta", ramp=PLAN)

    change_flag("beta", ramp=None)
    flag = change_flag("beta", percentage="30")

    assert (flag.ramp_status, flag.ramp_plan, flag.percentage) == ("", None, Decimal("30.00"))
