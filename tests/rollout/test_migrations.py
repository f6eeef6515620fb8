import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rollout.models import FlagSetVersion

pytestmark = pytest.mark.django_db

grant = importlib.import_module("rollout.migrations.0002_operator_permissions")


def test_the_data_migration_lets_operators_manage_flags_and_nobody_else():
    Group.objects.filter(name__in=["operator", "accountant"]).delete()
    FlagSetVersion.objects.all().delete()
    Group.objects.create(name="accountant")
    historical = MigrationExecutor(connection).loader.project_state(("rollout", "0002_operator_permissions")).apps

    grant.forwards(historical, None)

    operator = Group.objects.get(name="operator")
    assert sorted(operator.permissions.values_list("codename", flat=True)) == sorted(grant.OPERATOR_PERMISSIONS)
    assert not Group.objects.get(name="accountant").permissions.exists()
    assert FlagSetVersion.objects.get(pk=1).version == 0

    grant.backwards(historical, None)
    assert not operator.permissions.exists()
