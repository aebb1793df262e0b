"""The Django admin, for operators (superusers). Every change made here is an audit event;
rows that only services may write are read-only here."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from audits import models
from audits.services.audit_log import audit_event_record
from audits.services.metric_aliases import metric_alias_add, metric_alias_remove


def _record_admin_change(request: HttpRequest, action: str, obj: Model, changed: list[str]) -> None:
    audit_event_record(
        actor=request.user,
        action=f"admin.{action}",
        object_type=obj._meta.model_name or "object",
        object_id=str(obj.pk),
        payload={"name": str(obj)[:200], "changed": changed},
    )


class AuditedAdmin(admin.ModelAdmin):
    """Changes through the admin leave the same trace as changes through the portal."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            _record_admin_change(
                request, "change" if change else "add", obj, sorted(form.changed_data)
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                _record_admin_change(request, "add", obj, [])
            for obj, changed in formset.changed_objects:
                _record_admin_change(request, "change", obj, sorted(changed))
            for obj in formset.deleted_objects:
                _record_admin_change(request, "delete", obj, [])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            _record_admin_change(request, "delete", obj, [])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                _record_admin_change(request, "delete", obj, [])
            super().delete_queryset(request, queryset)


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
class OrganizationAdmin(AuditedAdmin):
    list_display = ["name", "kind", "slug", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization__kind"]
    list_select_related = ["user", "organization"]


@admin.register(models.AIModel)
class AIModelAdmin(AuditedAdmin):
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
    """Aliases change scoring: added and removed through their service (regulator admins
    keep them in the portal, under Metric aliases); an alias is never edited in place."""

    list_display = ["pattern", "metric", "created_by", "created_at"]
    search_fields = ["pattern", "metric"]
    fields = ["pattern", "metric"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        saved = metric_alias_add(acting_user=request.user, pattern=obj.pattern, metric=obj.metric)  # type: ignore[arg-type]
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        metric_alias_remove(acting_user=request.user, alias=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for alias in queryset:
            metric_alias_remove(acting_user=request.user, alias=alias)  # type: ignore[arg-type]


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
                acting_user=request.user,  # type: ignore[arg-type]  # a signed-in superuser
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
            api_key_revoke(api_key=obj, acting_user=request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit log refers to the key


# People's accounts (roles, staff and superuser flags, passwords) change here too.
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    pass
