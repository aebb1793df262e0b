from django.contrib import admin
from django.urls import include, path

from audits.api.views import PublicFilingSchemaView
from govportal import health, metrics

urlpatterns = [
    # Operations: liveness, readiness and Prometheus metrics (see docs/deployment.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("audits.api.urls")),
    path(
        "schemas/filing-v1.json",
        PublicFilingSchemaView.as_view(),
        name="filing-schema-v1",
    ),
    path("", include("audits.web.urls")),
]

# Friendly error pages (templates/403.html, 404.html, 500.html).
handler403 = "audits.web.errors.forbidden"
handler404 = "audits.web.errors.not_found"
handler500 = "audits.web.errors.server_error"
