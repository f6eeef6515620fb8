"""The accountant, viewer and operator groups with their admin permissions."""

from django.db import migrations

from ledger.roles import sync_role_permissions


def create_role_groups(apps, schema_editor):
    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_balanced_entries_backstop"),
        ("finance", "0002_event_store_guards"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
