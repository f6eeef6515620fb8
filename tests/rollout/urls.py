"""The project's URLs plus a few pages that only the rollout tests serve."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from rollout.decisions import flag_is_active

PAGE = engines["django"].from_string('{% load rollout %}{% flag "beta" %}new page{% else %}old page{% endflag %}')


def beta_page(request):
    return HttpResponse(PAGE.render({}, request))


def status_page(request, code: int):
    # Lets a test drive good or failing traffic through the middleware.
    return HttpResponse(f"status {code}", status=code)


def whoami_page(request):
    return HttpResponse(request.user.get_username())


def active_page(request, name: str):
    return HttpResponse("yes" if flag_is_active(request, name) else "no")


urlpatterns = [
    path("beta/page", beta_page),
    path("labs/status/<int:code>", status_page),
    path("labs/active/<str:name>", active_page),
    path("labs/whoami", whoami_page),
    *project_urlpatterns,
]
