from django.contrib import admin
from django.urls import include, path

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    # Reports and the live activity page of the back office, next to the admin's own pages.
    path("admin/", include("ledger.admin.urls")),
    path("admin/", admin.site.urls),
]
