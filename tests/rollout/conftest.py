import importlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django_redis import get_redis_connection

from rollout import decisions, registry, services, traffic
from rollout.models import ChangeSource


def _forget_shared_traffic() -> None:
    if settings.REDIS_URL:
        client = get_redis_connection("default")
        for key in client.scan_iter("rollout:traffic:*"):
            client.delete(key)


@pytest.fixture(autouse=True)
def fresh_rollout_state():
    """Each test starts with no in-process copy, no overrides, no buffered or shared
    traffic, and no cached version from another test's database."""
    registry.registry.reset()
    decisions.overrides.clear()
    traffic.buffer.drain()
    cache.delete(registry.VERSION_KEY)
    if registry._signal_file():
        registry._signal_file().unlink(missing_ok=True)
    _forget_shared_traffic()
    yield
    registry.registry.reset()
    decisions.overrides.clear()
    traffic.buffer.drain()


# The services publish a new version once their transaction commits; inside a test's
# transaction the callbacks run when the service returns, as after a real commit.
@pytest.fixture
def make_flag(django_capture_on_commit_callbacks):
    def make(name: str = "new-ui", reason: str = "test setup", **values):
        with django_capture_on_commit_callbacks(execute=True):
            return services.flag_create(name=name, values=values, reason=reason, actor="setup", source=ChangeSource.API)

    return make


@pytest.fixture
def change_flag(django_capture_on_commit_callbacks):
    def change(name: str, reason: str = "test change", **values):
        with django_capture_on_commit_callbacks(execute=True):
            return services.flag_update(name=name, values=values, reason=reason, actor="setup", source=ChangeSource.API)

    return change


OPERATOR_PERMISSIONS = importlib.import_module("rollout.migrations.0002_operator_permissions").OPERATOR_PERMISSIONS


@pytest.fixture
def make_user():
    def make(username: str, *groups: str, **fields):
        user = get_user_model().objects.create_user(username=username, password=None, **fields)
        for name in groups:
            group, _ = Group.objects.get_or_create(name=name)
            if name == "operator":
                # A transactional test elsewhere may have emptied the tables the data
                # migration filled; the grant itself is tested in test_migrations.
                group.permissions.add(
                    *Permission.objects.filter(content_type__app_label="rollout", codename__in=OPERATOR_PERMISSIONS)
                )
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def plain_static_files(settings):
    # The manifest storage needs collectstatic first; the admin's pages are what is tested.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def operator_client(client, make_user):
    client.force_login(make_user("olga", "operator", is_staff=True))
    return client
