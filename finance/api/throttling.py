"""Request budgets per API token (``API_THROTTLE_RATE``); over budget → 429 with
``Retry-After`` (finance.api.problems)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from finance.models import ApiToken


class TokenRateThrottle(UserRateThrottle):
    """Each token has a budget of its own, so two clients that act for one user do not
    starve each other and revoking a runaway client's token ends its traffic; a browser
    session counts against its user."""

    def get_rate(self):
        # Read when the throttle is made (each request), not when the class was
        # imported: a changed setting takes effect without a restart of the module.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            # Part of the key's digest (never the key): unlike the row id, it is not
            # reused when a database is recreated while the cache is kept.
            ident = f"token-{request.auth.key_hash[:24]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
