from django.contrib import admin
from django.urls import path

from config import health, metrics_endpoint

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_endpoint.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]
