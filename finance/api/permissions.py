"""Roles are Django groups: ``accountant`` (read + write the books), ``viewer`` (read
only), ``operator`` (rollout flags + read). Superusers may do everything."""

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.permissions import SAFE_METHODS, BasePermission

ACCOUNTANT, VIEWER, OPERATOR = "accountant", "viewer", "operator"
ROLES = (ACCOUNTANT, VIEWER, OPERATOR)


def with_roles(rows: QuerySet) -> QuerySet:
    """``rows`` (each with a ``user``) with one ``role_<name>`` flag per role of that user:
    the query that finds the user brings the roles along, instead of a second query."""
    return rows.annotate(
        **{f"role_{role}": Exists(Group.objects.filter(name=role, user=OuterRef("user_id"))) for role in ROLES}
    )


def remember_roles(user, row) -> None:
    """Memoise on ``user`` the roles a ``with_roles`` row carries."""
    user._finance_roles = frozenset(role for role in ROLES if getattr(row, f"role_{role}"))


def roles_of(user) -> frozenset[str]:
    """The user's roles, memoised on the user object for the request."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_finance_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._finance_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or bool(roles_of(user) & set(roles))


class FinanceAccess(BasePermission):
    """Every role reads the books; accountants write them."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, *ROLES)
        return has_role(request.user, ACCOUNTANT)


class RolloutAccess(BasePermission):
    """Readers read flags; operators change them."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, *ROLES)
        return has_role(request.user, OPERATOR)
