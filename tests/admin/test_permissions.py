"""Accountants keep the books, viewers read them, operators see only rollout, superusers
everything — in the admin as in the API."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from finance.models import Event
from ledger import models
from ledger.roles import role_rules, sync_role_permissions
from tests.admin import books, forms_data

pytestmark = pytest.mark.django_db

CHANGELISTS = ["account", "journalentry", "invoice", "payment", "closedperiod"]
REPORTS = ["trial-balance", "balance-sheet", "income-statement", "ar-aging", "account-statement"]


@pytest.fixture
def entry(chart):
    return books.post(date(2026, 11, 3), "Supplies", "5000", "1000", "12.00")


@pytest.fixture
def invoice(chart):
    return books.draft_invoice("ACME", date(2026, 12, 31))


def action_urls(entry, invoice) -> list[str]:
    return [
        reverse("admin:ledger_account_add"),
        reverse("admin:ledger_account_edit", args=["1000"]),
        reverse("admin:ledger_account_deactivate", args=["5000"]),
        reverse("admin:ledger_journalentry_add"),
        reverse("admin:ledger_journalentry_reverse", args=[entry.id]),
        reverse("admin:ledger_invoice_add"),
        reverse("admin:ledger_invoice_edit", args=[invoice.id]),
        reverse("admin:ledger_invoice_issue", args=[invoice.id]),
        reverse("admin:ledger_invoice_void", args=[invoice.id]),
        reverse("admin:ledger_payment_add"),
        reverse("admin:ledger_closedperiod_add"),
    ]


def test_the_migration_gives_each_role_its_permissions():
    groups = {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()} for g in Group.objects.all()
    }

    assert "ledger.add_journalentry" in groups["accountant"]
    assert "ledger.change_invoice" in groups["accountant"]
    assert "finance.view_event" in groups["viewer"]
    assert not any(p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in groups["viewer"])
    assert not any(p.split(".")[1].startswith("delete_") for p in groups["accountant"])
    assert all(p.startswith("rollout.") for p in groups["operator"])


def test_syncing_restores_exactly_the_rule():
    accountant = Group.objects.get(name="accountant")
    accountant.permissions.remove(Permission.objects.get(codename="add_invoice"))
    accountant.permissions.add(Permission.objects.get(codename="delete_invoice"))

    sync_role_permissions(apps)

    codenames = set(accountant.permissions.values_list("content_type__app_label", "codename"))
    assert codenames == role_rules()["accountant"]


def test_syncing_leaves_the_rollout_apps_grants_alone_and_gives_operators_nothing_of_the_books():
    operator = Group.objects.get(name="operator")
    flag_permission = Permission.objects.get(content_type__app_label="rollout", codename="change_flag")
    operator.permissions.add(flag_permission, Permission.objects.get(codename="view_journalentry"))

    sync_role_permissions(apps)

    assert flag_permission in operator.permissions.all()
    assert not operator.permissions.filter(content_type__app_label__in=["finance", "ledger"]).exists()


@pytest.mark.parametrize("model", CHANGELISTS)
def test_accountants_and_viewers_read_every_list(as_accountant, as_viewer, chart, model):
    url = reverse(f"admin:ledger_{model}_changelist")

    assert as_accountant.get(url).status_code == 200
    assert as_viewer.get(url).status_code == 200


def test_accountants_may_open_every_action(as_accountant, entry, invoice):
    assert [as_accountant.get(url).status_code for url in action_urls(entry, invoice)] == [200] * 11


def test_a_viewer_is_refused_every_action_and_nothing_is_written(as_viewer, entry, invoice):
    before = Event.objects.count()

    statuses = {
        url: (as_viewer.get(url).status_code, as_viewer.post(url, {}).status_code)
        for url in action_urls(entry, invoice)
    }
    posting = as_viewer.post(
        reverse("admin:ledger_journalentry_add"), forms_data.journal_entry(("5000", "1.00", ""), ("1000", "", "1.00"))
    )

    assert set(statuses.values()) == {(403, 403)}
    assert posting.status_code == 403
    assert Event.objects.count() == before


def test_a_viewer_sees_no_buttons_that_would_change_the_books(as_viewer, entry):
    entry_page = as_viewer.get(reverse("admin:ledger_journalentry_change", args=[entry.id])).content.decode()
    changelist = as_viewer.get(reverse("admin:ledger_journalentry_changelist")).content.decode()

    assert reverse("admin:ledger_journalentry_reverse", args=[entry.id]) not in entry_page
    assert reverse("admin:ledger_journalentry_add") not in changelist
    assert "Post a journal entry" not in changelist


@pytest.mark.parametrize("report", REPORTS)
def test_reports_are_for_readers_of_the_books(as_viewer, as_operator, chart, report):
    url = reverse(f"admin-reports:{report}")

    assert as_viewer.get(url).status_code == 200
    assert as_operator.get(url).status_code == 403


def test_operators_see_nothing_of_the_books(as_operator, entry):
    index = as_operator.get(reverse("admin:index")).content.decode()

    assert as_operator.get(reverse("admin:ledger_journalentry_changelist")).status_code == 403
    assert as_operator.get(reverse("admin:ledger_journalentry_change", args=[entry.id])).status_code == 403
    assert as_operator.get(reverse("admin:finance_event_changelist")).status_code == 403
    assert as_operator.get(reverse("admin-reports:live-activity")).status_code == 403
    assert reverse("admin:ledger_journalentry_changelist") not in index
    assert reverse("admin-reports:trial-balance") not in index


def test_superusers_may_do_everything(as_superuser, entry, invoice):
    assert [as_superuser.get(url).status_code for url in action_urls(entry, invoice)] == [200] * 11
    assert as_superuser.get(reverse("admin-reports:live-activity")).status_code == 200
    assert as_superuser.get(reverse("admin:finance_event_changelist")).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login(client, chart):
    for url in (reverse("admin:ledger_account_add"), reverse("admin-reports:trial-balance")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_user_without_a_role_sees_no_books(client, chart):
    nobody = books.user_with_role("nobody", None)
    client.force_login(nobody)

    assert client.get(reverse("admin:ledger_account_changelist")).status_code == 403
    assert client.get(reverse("admin-reports:trial-balance")).status_code == 403
    assert models.Account.objects.count() == len(books.CHART)
