"""Changes made elsewhere that alter flag decisions.

Flags fold group members into their lists when the in-process copy is built, so a
membership change must make every worker reload; and deleting a user or group that a
flag lists must show in that flag's audit log instead of vanishing by cascade.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, pre_delete

from rollout.services import bump_flag_set_version, remove_from_lists


def _membership_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        bump_flag_set_version()


def _user_deleted(sender, instance, **kwargs) -> None:
    remove_from_lists(user=instance)


def _group_deleted(sender, instance, **kwargs) -> None:
    remove_from_lists(group=instance)


def connect() -> None:
    user_model = get_user_model()
    m2m_changed.connect(_membership_changed, sender=user_model.groups.through, dispatch_uid="rollout-membership")
    pre_delete.connect(_user_deleted, sender=user_model, dispatch_uid="rollout-user-deleted")
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="rollout-group-deleted")
