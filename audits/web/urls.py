"""The portal's pages. Every name here must have a row in tests/authz/test_portal_matrix.py."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from audits.web import (
    account_security,
    accounts,
    audit_trail,
    lab,
    metric_aliases,
    organization,
    portfolio,
    regulator,
    submission,
    views,
    webhooks,
)
from audits.web import notifications as bell

REFERENCE = "submissions/<str:reference>/"

auth_urls = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", accounts.account, name="account"),
    path(
        "accounts/password/change/",
        account_security.PasswordChangeView.as_view(
            success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        account_security.PasswordResetView.as_view(success_url=reverse_lazy("password_reset_done")),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        account_security.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/two-factor/", account_security.two_factor_verify, name="two-factor-verify"),
    path("accounts/two-factor/setup/", account_security.two_factor_setup, name="two-factor-setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        account_security.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path(
        "accounts/two-factor/remove/", account_security.two_factor_remove, name="two-factor-remove"
    ),
    path(
        "accounts/notifications/",
        bell.notification_preferences,
        name="notification-preferences",
    ),
]

people_urls = [
    path("notifications/", bell.notification_list, name="notifications"),
    path("notifications/read/", bell.notification_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/read/", bell.notification_read, name="notification-read"),
    path("audit/", audit_trail.audit_trail, name="audit-trail"),
    path("audit/export.csv", audit_trail.audit_trail_export, name="audit-trail-export"),
    path("organization/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("organization/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook"),
    path("organization/webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="webhook-rotate"),
    path("organization/webhooks/<int:pk>/test/", webhooks.webhook_test, name="webhook-test"),
    path("organization/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook-delete"),
]

lab_urls = [
    path("filings/", lab.filings, name="filings"),
    path("filings/new/", lab.filing_new, name="filing-new"),
    path(f"{REFERENCE}files/<str:kind>/", lab.upload, name="upload"),
    path(
        f"{REFERENCE}files/<str:kind>/<int:upload_id>/remove/",
        lab.upload_remove,
        name="upload-remove",
    ),
    path(f"{REFERENCE}form/", lab.filing_form, name="filing-form"),
    path(f"{REFERENCE}form/preview/", lab.filing_preview, name="filing-preview"),
    path(f"{REFERENCE}submit/", lab.submit, name="submit"),
]

submission_urls = [
    path(REFERENCE, submission.submission_detail, name="submission"),
    path(f"{REFERENCE}reports/", submission.reports_panel, name="reports"),
    path(f"{REFERENCE}reports/<int:version>/pdf/", submission.report_download, name="report-pdf"),
    path(f"{REFERENCE}reports/correct/", views.report_correct_page, name="report-correct"),
    path(f"{REFERENCE}download/<str:sha256>/", submission.file_download, name="file-download"),
    path(f"{REFERENCE}comments/", submission.comment, name="comment"),
]

regulator_urls = [
    path("queue/", regulator.queue, name="queue"),
    path("queue/export.csv", portfolio.queue_export_csv, name="queue-export-csv"),
    path("queue/export.xlsx", portfolio.queue_export_xlsx, name="queue-export-xlsx"),
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path(f"{REFERENCE}review/", regulator.start_review, name="start-review"),
    path(f"{REFERENCE}assign/", regulator.assign, name="assign"),
    path(f"{REFERENCE}override/", regulator.override, name="override"),
    path(f"{REFERENCE}override/resolve/", regulator.override_resolve, name="override-resolve"),
    path(f"{REFERENCE}decision/", regulator.decide, name="decide"),
    path("rubrics/", regulator.rubric_list, name="rubrics"),
    path("metric-aliases/", metric_aliases.alias_list, name="metric-aliases"),
    path(
        "metric-aliases/<int:pk>/remove/", metric_aliases.alias_remove, name="metric-alias-remove"
    ),
    path("rubrics/<int:pk>/publish/", regulator.rubric_publish, name="rubric-publish"),
    path(
        "rubrics/publications/<int:pk>/",
        regulator.rubric_publication,
        name="rubric-publication",
    ),
    path(
        "rubrics/publications/<int:pk>/progress/",
        regulator.rubric_publication_progress,
        name="rubric-publication-progress",
    ),
    path(
        "rubrics/publications/<int:pk>/retry/",
        regulator.rubric_publication_retry,
        name="rubric-publication-retry",
    ),
]

organization_urls = [
    path("organization/members/", organization.members, name="members"),
    path("organization/members/<int:user_id>/role/", organization.member_role, name="member-role"),
    path(
        "organization/members/<int:user_id>/remove/",
        organization.member_remove,
        name="member-remove",
    ),
    path("organization/api-keys/", organization.api_key_list, name="api-keys"),
    path(
        "organization/api-keys/<str:prefix>/revoke/",
        organization.api_key_revoke,
        name="api-key-revoke",
    ),
]

urlpatterns = [
    path("", accounts.home, name="home"),
    *auth_urls,
    *lab_urls,
    *submission_urls,
    *regulator_urls,
    *organization_urls,
    *people_urls,
    # Public: anyone holding a report PDF checks it here (the reports engineer's view).
    path("verify/", views.report_verify_page, name="report-verify"),
    path("verify/certificate.pem", views.signing_certificate, name="report-signing-certificate"),
]
