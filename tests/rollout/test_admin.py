import pytest

from rollout.models import ChangeSource, Flag
from tests.rollout.admin_forms import ADD, change_url, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


def test_operators_see_flags_and_accountants_do_not(client, make_user):
    client.force_login(make_user("olga", "operator", is_staff=True))
    operator_index = client.get("/admin/", secure=True)
    client.force_login(make_user("alex", "accountant", is_staff=True))
    accountant_index = client.get("/admin/", secure=True)

    assert b"/admin/rollout/flag/" in operator_index.content
    assert b"/admin/rollout/flag/" not in accountant_index.content
    assert client.get("/admin/rollout/flag/", secure=True).status_code == 403


def test_adding_a_flag_in_the_admin_is_audited(operator_client):
    data = form_data(operator_client, ADD, name="beta", enabled="on", percentage="12.5", reason="start beta")

    response = operator_client.post(ADD, data, secure=True)

    assert response.status_code == 302
    flag = Flag.objects.get(name="beta")
    change = flag.changes.get()
    assert (flag.percentage, change.actor, change.source, change.reason) == (
        12.5,
        "olga",
        ChangeSource.ADMIN,
        "start beta",
    )


def test_a_change_without_a_reason_is_refused_and_changes_nothing(operator_client, make_flag):
    flag = make_flag("beta")
    data = form_data(operator_client, change_url(flag), enabled="on", percentage="50", seen_version="1")

    response = operator_client.post(change_url(flag), data, secure=True)

    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert Flag.objects.get(name="beta").percentage == 0


def test_a_change_in_the_admin_is_audited_and_shown_in_the_history(operator_client, make_flag):
    flag = make_flag("beta")
    data = form_data(operator_client, change_url(flag), enabled="on", percentage="25", reason="widen", seen_version="1")

    response = operator_client.post(change_url(flag), data, secure=True)
    page = operator_client.get(change_url(flag), secure=True).content.decode()

    assert response.status_code == 302
    assert Flag.objects.get(name="beta").version == 2
    assert "widen" in page
    assert "&quot;0.00&quot; → &quot;25.00&quot;" in page


def test_rule_violations_show_beside_the_field(operator_client, make_flag):
    flag = make_flag("beta")
    data = form_data(
        operator_client, change_url(flag), enabled="on", prefixes="/admin/\n/beta/", reason="gate", seen_version="1"
    )

    response = operator_client.post(change_url(flag), data, secure=True)

    assert response.status_code == 200
    assert "would gate" in response.content.decode()
    assert Flag.objects.get(name="beta").path_prefixes == []


def test_a_flag_changed_meanwhile_is_not_overwritten(operator_client, make_flag, change_flag):
    flag = make_flag("beta")
    data = form_data(operator_client, change_url(flag), enabled="on", percentage="25", reason="mine", seen_version="1")
    change_flag("beta", percentage="5", reason="theirs")

    response = operator_client.post(change_url(flag), data, secure=True, follow=True)

    assert "someone changed this flag meanwhile" in response.content.decode()
    assert Flag.objects.get(name="beta").percentage == 5


def test_pausing_a_ramp_from_the_admin(operator_client, make_flag):
    plan = {"stages": [{"percentage": "5", "hold_seconds": 60}], "max_error_rate": "0.01", "max_p95_ms": 500}
    flag = make_flag("beta", ramp=plan)
    data = form_data(
        operator_client,
        change_url(flag),
        enabled="on",
        percentage="5.00",
        ramp='{"stages": [{"percentage": "5.00", "hold_seconds": 60}], "max_error_rate": "0.01", '
        '"max_p95_ms": 500, "min_requests": 100}',
        ramp_control="pause",
        reason="incident",
        seen_version="1",
    )

    response = operator_client.post(change_url(flag), data, secure=True)

    assert response.status_code == 302
    assert Flag.objects.get(name="beta").ramp_status == "paused"


def test_flags_cannot_be_deleted(operator_client, make_flag):
    flag = make_flag("beta")

    response = operator_client.post(f"/admin/rollout/flag/{flag.pk}/delete/", {"post": "yes"}, secure=True)

    assert response.status_code == 403
    assert Flag.objects.filter(name="beta").exists()
