from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.roles import sync_after_migrate

        # Keeps the role groups' permissions whole when later migrations add models.
        post_migrate.connect(sync_after_migrate, dispatch_uid="ledger_sync_role_permissions")
