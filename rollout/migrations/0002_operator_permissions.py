"""The flag-set version row, and the operator role's right to manage flags in the admin
(accountants and viewers get none, so they do not see flags there)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = ("add_flag", "change_flag", "view_flag", "view_flagchange")


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this one needs them now.
    app_config = apps.get_app_config("rollout")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    operator, _ = Group.objects.get_or_create(name="operator")
    operator.permissions.add(
        *Permission.objects.filter(content_type__app_label="rollout", codename__in=OPERATOR_PERMISSIONS)
    )
    apps.get_model("rollout", "FlagSetVersion").objects.get_or_create(pk=1, defaults={"version": 0})


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for operator in Group.objects.filter(name="operator"):
        operator.permissions.remove(
            *Permission.objects.filter(content_type__app_label="rollout", codename__in=OPERATOR_PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rollout", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
