from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audits import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (and, for audit events and reports, never changed)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization__kind"]
    list_select_related = ["user", "organization"]


@admin.register(models.AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["name"]


@admin.register(models.Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "organization",
        "model",
        "model_version",
        "status",
        "revision",
        "submitted_at",
    ]
    list_filter = ["status", "organization"]
    list_select_related = ["organization", "model"]
    search_fields = ["reference", "model__name"]


@admin.register(models.StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "sha256", "size", "content_type", "created_at"]
    search_fields = ["sha256", "original_name"]


@admin.register(models.ModelCard, models.DiagnosticUpload, models.Evidence)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "submission", "revision", "uploaded_by", "uploaded_at"]
    list_select_related = ["submission", "uploaded_by"]


@admin.register(models.Facts)
class FactsAdmin(ReadOnlyAdmin):
    list_display = ["submission", "revision", "sha256", "built_at"]


@admin.register(models.MetricAlias)
class MetricAliasAdmin(admin.ModelAdmin):
    list_display = ["pattern", "metric", "created_by", "created_at"]
    search_fields = ["pattern", "metric"]


@admin.register(models.Rubric)
class RubricAdmin(ReadOnlyAdmin):
    list_display = ["urn", "version", "sha256", "in_force", "loaded_at"]


@admin.register(models.Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = [
        "submission",
        "revision",
        "rubric",
        "overall_score",
        "tier",
        "coverage",
        "created_at",
    ]
    list_filter = ["tier"]
    list_select_related = ["submission", "rubric"]


@admin.register(models.Override, models.Review, models.Comment)
class ReviewRecordAdmin(ReadOnlyAdmin):
    pass


@admin.register(models.Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["submission", "revision", "version", "kind", "status", "sha256", "attempts"]
    list_filter = ["status", "kind"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_label"]


# --- Organization API keys: created through the service so each gets its principal ---------

from rest_framework_api_key.admin import APIKeyModelAdmin  # noqa: E402
from rest_framework_api_key.models import APIKey  # noqa: E402

from audits.services.api_keys import api_key_create, api_key_revoke  # noqa: E402

# The library's own key model is unused: keys belong to an organization.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(models.OrganizationAPIKey)
class OrganizationAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (  # type: ignore[assignment]  # the library types its tuple by length
        "prefix",
        "name",
        "organization",
        "scope",
        "created",
        "expiry_date",
        "_has_expired",
        "last_used_at",
        "revoked",
    )
    list_filter = ("scope", "revoked", "organization")  # type: ignore[assignment]
    list_select_related = ["organization"]
    fields = ["organization", "name", "scope", "expiry_date", "revoked"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("organization", "name", "scope", "expiry_date", "prefix", "last_used_at") + (
            ("revoked",) if obj.revoked else ()
        )

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any = None, change: bool = False
    ) -> None:
        from django.contrib import messages

        if not change:
            api_key, plaintext = api_key_create(
                organization=obj.organization,
                acting_user=request.user,
                name=obj.name,
                scope=obj.scope,
                expires_at=obj.expiry_date,
            )
            obj.pk = api_key.pk
            messages.warning(
                request,
                f"The API key for {api_key.name} is: {plaintext} — store it now; "
                "it is not shown again.",
            )
        elif obj.revoked:
            api_key_revoke(api_key=obj, acting_user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit log refers to the key
