"""The Django model permissions each role's group carries on the books in the admin.

Roles are the groups named in ``finance.api.permissions``: accountants keep the books,
viewers read them, operators run rollout flags and see nothing of the books. In the
admin, ``add`` and ``change`` on a read model mean "may run that model's services"
(post, reverse, issue, allocate, close…): the read models themselves are never edited.

This module governs the permissions of the ``finance`` and ``ledger`` apps only; what a
role may do with rollout flags is the rollout app's to grant (its own data migration),
and is left as it is here.

``sync_role_permissions`` is idempotent. A data migration runs it once, and a
``post_migrate`` hook runs it after every ``migrate`` so that permissions of book
models added later reach their groups too.
"""

import logging

from django.contrib.auth.management import create_permissions

from finance.api.permissions import ACCOUNTANT, OPERATOR, VIEWER

logger = logging.getLogger(__name__)

# Models whose services the admin runs, and the read-only models (the event store).
BOOKS = ("account", "journalentry", "invoice", "payment", "closedperiod")
LEDGER_READ_ONLY = ("journalline", "allocation", "refund", "accountdailytotal")
EVENT_STORE = ("event", "stream")


def _books_read() -> set[tuple[str, str]]:
    return {("ledger", f"view_{model}") for model in BOOKS + LEDGER_READ_ONLY} | {
        ("finance", f"view_{model}") for model in EVENT_STORE
    }


GOVERNED_APPS = ("finance", "ledger")


def role_rules() -> dict[str, set[tuple[str, str]]]:
    """Per role: exactly the (app label, codename) pairs it holds in the governed apps."""
    run_services = {("ledger", f"{action}_{model}") for model in BOOKS for action in ("add", "change")}
    return {VIEWER: _books_read(), ACCOUNTANT: _books_read() | run_services, OPERATOR: set()}


def sync_role_permissions(apps) -> None:
    """Create the role groups and set each one's permissions to exactly its rule.

    ``apps`` is the app registry: the historical one inside a migration, the global
    one from the ``post_migrate`` hook."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations; a fresh database
        # needs them now. Idempotent. A migration's app configs have no models
        # module, which create_permissions takes for "no models": lend it one.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module
    governed = list(Permission.objects.filter(content_type__app_label__in=GOVERNED_APPS).select_related("content_type"))
    for role, rule in role_rules().items():
        group, _ = Group.objects.get_or_create(name=role)
        kept = list(group.permissions.exclude(content_type__app_label__in=GOVERNED_APPS))
        wanted = [p for p in governed if (p.content_type.app_label, p.codename) in rule]
        group.permissions.set(kept + wanted)
    logger.info("role permissions synced", extra={"roles": sorted(role_rules())})


def sync_after_migrate(sender, apps=None, **kwargs) -> None:
    """``post_migrate`` receiver: runs once per ``migrate``, after the last app."""
    from django.apps import apps as global_apps

    if sender.label != list(global_apps.get_app_configs())[-1].label:
        return
    sync_role_permissions(apps or global_apps)
