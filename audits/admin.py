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
