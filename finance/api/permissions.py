"""Roles are Django groups: ``accountant`` (read + write the books), ``viewer`` (read
only), ``operator`` (rollout flags + read). Superusers may do everything."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

ACCOUNTANT, VIEWER, OPERATOR = "accountant", "viewer", "operator"
ROLES = (ACCOUNTANT, VIEWER, OPERATOR)


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
