from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health, metrics_endpoint

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_endpoint.metrics, name="metrics"),
    # Reports and the live activity page of the back office, next to the admin's own pages.
    path("admin/", include("ledger.admin.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/reports/", include("ledger.api.urls")),
    path("api/v1/rollout/", include("rollout.api.urls")),
    path("api/v1/", include("finance.api.urls")),
]

handler400 = "finance.api.problems.handler400"
handler403 = "finance.api.problems.handler403"
handler404 = "finance.api.problems.handler404"
handler500 = "finance.api.problems.handler500"
