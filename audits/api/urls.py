"""/api/v1/ routes. Each needs an entry in tests/api/test_authorization_matrix.py."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from audits.api import views, webhooks
from audits.api.errors import not_found

app_name = "api-v1"
DOC_VIEWER_POLICY = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

submission = "submissions/<str:reference>/"

urlpatterns = [
    path("me/", views.WhoAmIView.as_view(), name="me"),
    path("submissions/", views.SubmissionListView.as_view(), name="submission-list"),
    path(submission, views.SubmissionDetailView.as_view(), name="submission-detail"),
    path(f"{submission}model-card/", views.ModelCardUploadView.as_view(), name="model-card"),
    path(f"{submission}diagnostics/", views.DiagnosticsUploadView.as_view(), name="diagnostics"),
    path(f"{submission}evidence/", views.EvidenceUploadView.as_view(), name="evidence"),
    path(
        f"{submission}files/<str:kind>/<int:upload_id>/",
        views.UploadRemoveView.as_view(),
        name="upload-remove",
    ),
    path(f"{submission}submit/", views.SubmitView.as_view(), name="submit"),
    path(f"{submission}start-review/", views.StartReviewView.as_view(), name="start-review"),
    path(f"{submission}assign/", views.AssignView.as_view(), name="assign"),
    path(
        f"{submission}request-changes/",
        views.RequestChangesView.as_view(),
        name="request-changes",
    ),
    path(f"{submission}accept/", views.AcceptView.as_view(), name="accept"),
    path(f"{submission}reject/", views.RejectView.as_view(), name="reject"),
    path(f"{submission}comments/", views.CommentListView.as_view(), name="comments"),
    path(f"{submission}overrides/", views.OverrideView.as_view(), name="overrides"),
    path(
        f"{submission}overrides/<str:criterion>/confirm/",
        views.OverrideConfirmView.as_view(),
        name="override-confirm",
    ),
    path(
        f"{submission}overrides/<str:criterion>/drop/",
        views.OverrideDropView.as_view(),
        name="override-drop",
    ),
    path(f"{submission}assessment/", views.AssessmentView.as_view(), name="assessment"),
    path(
        f"{submission}assessment/preview/",
        views.AssessmentPreviewView.as_view(),
        name="assessment-preview",
    ),
    path(f"{submission}assessments/", views.AssessmentListView.as_view(), name="assessments"),
    path(f"{submission}reports/", views.ReportListView.as_view(), name="reports"),
    path(
        f"{submission}reports/corrections/",
        views.ReportCorrectionView.as_view(),
        name="report-corrections",
    ),
    path(
        f"{submission}reports/<int:version>/",
        views.ReportDetailView.as_view(),
        name="report-detail",
    ),
    path(
        f"{submission}reports/<int:version>/pdf/",
        views.ReportPdfView.as_view(),
        name="report-pdf",
    ),
    path("reports/verify/", views.ReportVerifyView.as_view(), name="report-verify"),
    path("rubrics/", views.RubricListView.as_view(), name="rubric-list"),
    path("rubrics/<str:reference>/", views.RubricDetailView.as_view(), name="rubric-detail"),
    path("schemas/filing-v1.json", views.FilingSchemaView.as_view(), name="filing-schema"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<str:prefix>/", views.ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<str:pk>/", webhooks.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<str:pk>/rotate-secret/",
        webhooks.WebhookRotateView.as_view(),
        name="webhook-rotate-secret",
    ),
    path("webhooks/<str:pk>/test/", webhooks.WebhookTestView.as_view(), name="webhook-test"),
    path(
        "webhooks/<str:pk>/deliveries/",
        webhooks.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script. Both
    # viewers style themselves with inline <style> elements (and Redoc searches in a worker),
    # which their pages alone allow.
    path(
        "docs/",
        DOC_VIEWER_POLICY(SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema")),
        name="docs",
    ),
    path(
        "redoc/",
        DOC_VIEWER_POLICY(SpectacularRedocView.as_view(url_name="api-v1:schema")),
        name="redoc",
    ),
    # Not a route: any other path under /api/v1/ answers the JSON 404.
    re_path(r"^.*$", not_found, name="not-found"),
]
