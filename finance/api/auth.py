"""API tokens: ``Authorization: Token <key>``; the database holds only their SHA-256."""

import hashlib
import secrets

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from finance.api import request_context
from finance.api.permissions import remember_roles, with_roles
from finance.models import ApiToken


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_token(user) -> str:
    """Create a token for the user and return its key (shown once, never stored)."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_digest(key))
    return key


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"
    model = ApiToken

    def authenticate(self, request):
        # The rollout middleware looks the token up before the view when it must decide a
        # gated path for the caller; the view's authentication then reuses that lookup.
        django_request = getattr(request, "_request", request)
        found = getattr(django_request, "_token_authentication", None)
        if found is None:
            found = super().authenticate(request)
            django_request._token_authentication = found
        return found

    def authenticate_credentials(self, key):
        try:
            token = with_roles(ApiToken.objects.select_related("user")).get(key_hash=_digest(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        remember_roles(token.user, token)
        request_context.set_user(token.user.get_username())
        return token.user, token
