from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from finance.api.auth import issue_token
from finance.api.permissions import ROLES


class Command(BaseCommand):
    help = "Issue an API token for USERNAME with a role; prints only the key."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--create", action="store_true", help="create the user if missing")

    @transaction.atomic
    def handle(self, *args, username, role, create, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            if not create:
                raise CommandError(f"no user {username!r}; pass --create to create it") from None
            user = User.objects.create_user(username=username)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        self.stdout.write(issue_token(user))
