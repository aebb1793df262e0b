"""What the API reads and writes. Shapes only: every rule lives in a service or selector."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.models import (
    Assessment,
    DiagnosticUpload,
    Evidence,
    ModelCard,
    OrganizationAPIKey,
    Report,
    Rubric,
    Submission,
)
from audits.selectors import API_SUBMISSION_ORDERINGS

Tier = Assessment.Tier


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- submissions --------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class SubmissionSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    revision = serializers.IntegerField()
    organization = OrganizationRefSerializer()
    model = serializers.CharField(source="model.name")
    model_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    tier = serializers.SerializerMethodField(
        help_text="The current assessment's tier (null before the first assessment). When "
        "`insufficient_evidence` is true this tier is provisional: read that flag first."
    )
    insufficient_evidence = serializers.BooleanField(
        source="current_insufficient",
        help_text="Coverage is below the rubric's threshold: the tier rests on too little "
        "evidence to be settled.",
    )
    overall_score = serializers.FloatField(source="current_score", allow_null=True)
    coverage = serializers.FloatField(source="current_coverage", allow_null=True)
    review_due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the regulator's review is due (the service level)."
    )
    answer_due_at = serializers.DateTimeField(
        allow_null=True, help_text="After a change request: when the lab is asked to answer."
    )

    @extend_schema_field(serializers.ChoiceField(choices=Tier.choices, allow_null=True))
    def get_tier(self, submission: Submission) -> str | None:
        return submission.current_tier or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_submitted_by(self, submission: Submission) -> str | None:
        return _username(submission.submitted_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assigned_to(self, submission: Submission) -> str | None:
        return _username(submission.assigned_to)


class StoredFileSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class UploadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.SerializerMethodField()
    file_name = serializers.CharField()
    revision = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    file = StoredFileSerializer(source="stored_file")
    format = serializers.CharField(required=False)
    supersedes = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    warnings = serializers.ListField(child=serializers.DictField(), required=False)

    def get_kind(self, upload: ModelCard | DiagnosticUpload | Evidence) -> str:
        return {ModelCard: "model_card", DiagnosticUpload: "diagnostics", Evidence: "evidence"}[
            type(upload)
        ]


class SubmissionDetailSerializer(SubmissionSerializer):
    model_cards = UploadSerializer(many=True)
    diagnostics = UploadSerializer(many=True)
    evidence = UploadSerializer(many=True)


class SubmissionCreateSerializer(serializers.Serializer):
    """Either a whole filing document, or just the model's name and version for an empty draft."""

    filing = serializers.DictField(
        required=False,
        help_text="A filing document (schema govportal/filing/1, see /schemas/filing-v1.json).",
    )
    model_name = serializers.CharField(required=False, max_length=200)
    model_version = serializers.CharField(required=False, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        filing = attrs.get("filing")
        if filing is None:
            if not attrs.get("model_name") or not attrs.get("model_version"):
                raise serializers.ValidationError(
                    {"filing": "Send a filing document, or model_name and model_version."}
                )
            return attrs
        model = filing.get("model") if isinstance(filing.get("model"), dict) else {}
        attrs.setdefault("model_name", str(model.get("name") or ""))
        attrs.setdefault("model_version", str(model.get("version") or ""))
        if not attrs["model_name"] or not attrs["model_version"]:
            raise serializers.ValidationError(
                {"filing": "The filing names no model.name and model.version."}
            )
        return attrs


class SubmissionListQuerySerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Submission.Status.choices, required=False)
    model = serializers.CharField(required=False, max_length=200)
    model_version = serializers.CharField(required=False, max_length=100)
    tier = serializers.MultipleChoiceField(choices=Tier.choices, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    submitted_after = serializers.DateTimeField(required=False)
    submitted_before = serializers.DateTimeField(required=False)
    ordering = serializers.ChoiceField(
        choices=sorted(API_SUBMISSION_ORDERINGS), required=False, default="-created"
    )


# --- uploads ------------------------------------------------------------------------------


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(max_length=255, allow_empty_file=False)

    def validate_file(self, upload: Any) -> Any:
        limit = settings.GOVPORTAL_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes per file."
            )
        return upload


class DiagnosticsUploadSerializer(FileUploadSerializer):
    supersedes = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=255,
        help_text="The name of an earlier file whose conflicting values this one replaces.",
    )


class EvidenceUploadSerializer(FileUploadSerializer):
    description = serializers.CharField(required=False, default="", allow_blank=True)


class LocatedMessageSerializer(serializers.Serializer):
    message = serializers.CharField()
    file = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)


class ExtractedSerializer(serializers.Serializer):
    kind = serializers.CharField()
    # The metaclass collects declared fields, so this does not shadow Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        help_text="Filing paths the file supplied, with their values."
    )
    diagnostics = serializers.ListField(child=serializers.DictField())
    evidence = serializers.ListField(child=serializers.DictField())
    narrative_sections = serializers.ListField(child=serializers.CharField())


class FactsSummarySerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    sha256 = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())
    warnings = LocatedMessageSerializer(many=True)


class AttachOutcomeSerializer(serializers.Serializer):
    upload = UploadSerializer()
    extracted = ExtractedSerializer(allow_null=True)
    warnings = LocatedMessageSerializer(many=True)
    facts = FactsSummarySerializer()


def attach_outcome_data(outcome: Any) -> dict[str, Any]:
    imported = outcome.imported
    extracted = None
    warnings: list[dict[str, Any]] = []
    if imported is not None:
        extracted = {
            "kind": imported.kind,
            "fields": imported.fields,
            "diagnostics": [d.as_fact() for d in imported.diagnostics],
            "evidence": imported.evidence,
            "narrative_sections": [section.title for section in imported.narrative],
        }
        warnings = [warning.as_dict() for warning in imported.warnings]
    return AttachOutcomeSerializer(
        {
            "upload": outcome.upload,
            "extracted": extracted,
            "warnings": warnings,
            "facts": outcome.facts,
        }
    ).data


class SubmissionCreatedSerializer(serializers.Serializer):
    submission = SubmissionSerializer()
    filing = AttachOutcomeSerializer(allow_null=True)


# --- actions ------------------------------------------------------------------------------


class SubmitSerializer(serializers.Serializer):
    accuracy_declaration = serializers.BooleanField(
        help_text=(
            "true: the submitter makes the portal's accuracy declaration (its words are in "
            "docs/api.md and are kept in the audit log); nothing is submitted without it."
        )
    )

    def validate_accuracy_declaration(self, declared: bool) -> bool:
        if not declared:
            raise serializers.ValidationError(
                "Submitting means declaring the filing accurate: send true."
            )
        return declared


class OverrideResolutionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=20_000,
        help_text="Why (required to drop; optional new wording when confirming).",
    )


class RationaleSerializer(serializers.Serializer):
    rationale = serializers.CharField(max_length=20_000)


class AcceptSerializer(RationaleSerializer):
    conditions = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        default=list,
        max_length=50,
        help_text="Conditions or outstanding items of the acceptance; the final report lists them.",
    )


class AssignSerializer(serializers.Serializer):
    reviewer = serializers.CharField(help_text="The reviewer's username.", max_length=150)


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)
    criterion = serializers.CharField(required=False, default="", allow_blank=True, max_length=20)


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision = serializers.IntegerField()
    criterion = serializers.CharField(allow_blank=True)
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class OverrideCreateSerializer(serializers.Serializer):
    criterion = serializers.CharField(max_length=20)
    level = serializers.IntegerField(min_value=0, max_value=32767)
    reason = serializers.CharField(
        max_length=20_000, help_text="The written justification (required)."
    )


class OverrideSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    automated_level = serializers.IntegerField()
    level = serializers.IntegerField()
    reason = serializers.CharField()
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()


# --- assessments --------------------------------------------------------------------------


class RubricRefSerializer(serializers.Serializer):
    urn = serializers.CharField()
    version = serializers.CharField()
    reference = serializers.SerializerMethodField()

    def get_reference(self, rubric: Rubric) -> str:
        return f"{rubric.urn}@{rubric.version}"


class AssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision = serializers.IntegerField()
    rubric = RubricRefSerializer()
    facts_sha256 = serializers.CharField()
    overall_score = serializers.FloatField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    coverage = serializers.FloatField()
    insufficient_evidence = serializers.BooleanField()
    engine_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    result = serializers.DictField(help_text="The engine's full result: criteria, categories…")
    overrides = OverrideSerializer(many=True, source="overrides.all")
    rescored_from = serializers.SerializerMethodField()
    diff = serializers.DictField(
        allow_null=True, help_text="What changed against `rescored_from`, if a rescoring."
    )

    @extend_schema_field(RubricRefSerializer(allow_null=True))
    def get_rescored_from(self, assessment: Assessment) -> dict[str, Any] | None:
        previous = assessment.rescored_from
        if previous is None:
            return None
        return RubricRefSerializer(previous.rubric).data


class PreviewRequestSerializer(serializers.Serializer):
    filing = serializers.DictField(
        required=False,
        help_text="Filing fields to merge for the preview (native filing schema); optional.",
    )


class PreviewSerializer(serializers.Serializer):
    result = serializers.DictField(help_text="The engine's full result, as it would be stored.")
    facts = serializers.DictField(help_text="The merged facts document it was computed from.")


class AssessmentQuerySerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)


# --- reports ------------------------------------------------------------------------------


class ReportSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    revision = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    variant = serializers.ChoiceField(
        choices=Report.Variant.choices,
        help_text="confidential: everything (the lab and regulators); public: for publication.",
    )
    status = serializers.ChoiceField(choices=Report.Status.choices)
    sha256 = serializers.CharField(allow_blank=True)
    signature_level = serializers.CharField(
        allow_blank=True, help_text="PAdES B-B or B-T for final reports; empty when unsigned."
    )
    signer_subject = serializers.CharField(allow_blank=True)
    signer_fingerprint = serializers.CharField(allow_blank=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    correction_reason = serializers.CharField(allow_blank=True)
    corrects_version = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField(source="pdf.size", allow_null=True, default=None)
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    rendered_at = serializers.DateTimeField(allow_null=True)
    download = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField(
        help_text="Poll this URL until `status` is ready (or failed)."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download(self, report: Report) -> str | None:
        if report.status != Report.Status.READY:
            return None
        return self._absolute(f"{self._path(report)}pdf/{self._variant(report)}")

    def get_status_url(self, report: Report) -> str:
        return self._absolute(f"{self._path(report)}{self._variant(report)}")

    def _path(self, report: Report) -> str:
        return f"/api/v1/submissions/{report.submission.reference}/reports/{report.version}/"

    def _variant(self, report: Report) -> str:
        return "?variant=public" if report.variant == Report.Variant.PUBLIC else ""

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ReportVariantQuerySerializer(serializers.Serializer):
    variant = serializers.ChoiceField(
        choices=Report.Variant.choices, required=False, default=Report.Variant.CONFIDENTIAL
    )


class ReportCorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=20_000, help_text="Why a corrected final report is issued; printed in it."
    )


class ReportVerifyQuerySerializer(serializers.Serializer):
    sha256 = serializers.CharField(max_length=200)


class ReportVerifyUploadSerializer(FileUploadSerializer):
    pass


class LatestReportSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    kind = serializers.CharField()
    variant = serializers.CharField()
    decision = serializers.CharField()
    issued_at = serializers.DateTimeField()
    sha256 = serializers.CharField()


class VerifiedReportSerializer(serializers.Serializer):
    reference = serializers.CharField()
    lab = serializers.CharField()
    model = serializers.CharField()
    model_version = serializers.CharField()
    revision = serializers.IntegerField()
    version = serializers.IntegerField()
    kind = serializers.CharField()
    variant = serializers.CharField()
    decision = serializers.CharField()
    issued_at = serializers.DateTimeField()
    signed = serializers.BooleanField()
    signature_level = serializers.CharField(allow_blank=True)
    signer_subject = serializers.CharField(allow_blank=True)
    signer_fingerprint = serializers.CharField(allow_blank=True)
    corrects_version = serializers.IntegerField(allow_null=True)
    superseded = serializers.BooleanField()
    latest = LatestReportSerializer(allow_null=True)


class SignatureCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Cryptographically valid over what it covers.")
    unmodified = serializers.BooleanField(help_text="Nothing was changed after signing.")
    trusted = serializers.BooleanField()
    by_portal_authority = serializers.BooleanField()
    signer_subject = serializers.CharField(allow_blank=True)
    signer_fingerprint = serializers.CharField(allow_blank=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    timestamped = serializers.BooleanField()
    level = serializers.CharField(allow_blank=True)
    problem = serializers.CharField(allow_blank=True)


class ReportVerificationSerializer(serializers.Serializer):
    issued = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["issued", "modified", "unsigned_copy", "not_issued"])
    sha256 = serializers.CharField()
    message = serializers.CharField()
    report = VerifiedReportSerializer(allow_null=True)
    signature = SignatureCheckSerializer(allow_null=True)
    embedded_assessment = serializers.CharField(allow_null=True)


# --- rubrics ------------------------------------------------------------------------------


class RubricSerializer(serializers.Serializer):
    urn = serializers.CharField()
    version = serializers.CharField()
    reference = serializers.SerializerMethodField()
    sha256 = serializers.CharField()
    in_force = serializers.BooleanField()
    loaded_at = serializers.DateTimeField()

    def get_reference(self, rubric: Rubric) -> str:
        return f"{rubric.urn}@{rubric.version}"


class RubricDetailSerializer(RubricSerializer):
    content = serializers.DictField()


# --- API keys -----------------------------------------------------------------------------


class ApiKeySerializer(serializers.Serializer):
    prefix = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=OrganizationAPIKey.Scope.choices)
    created = serializers.DateTimeField()
    created_by = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(source="expiry_date", allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, api_key: OrganizationAPIKey) -> str | None:
        return _username(api_key.created_by)


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    scope = serializers.ChoiceField(
        choices=OrganizationAPIKey.Scope.choices, default=OrganizationAPIKey.Scope.READ
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The key itself. Shown once: store it now.")


# --- who am I -----------------------------------------------------------------------------


class WhoAmISerializer(serializers.Serializer):
    username = serializers.CharField()
    organization = OrganizationRefSerializer()
    organization_kind = serializers.CharField()
    role = serializers.CharField(help_text="lab member, lab admin, regulator reviewer…")
    api_key = ApiKeySerializer(allow_null=True)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    file = serializers.CharField(required=False)
    line = serializers.IntegerField(required=False)
    details = serializers.DictField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def page_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The documented shape of a paginated list of `item` (see pagination.PagePagination)."""
    name = item.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


def _timestamp(value: Any) -> str | None:
    # As DRF's DateTimeField writes it (UTC with a Z), without a Field per value.
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def submission_rows(submissions: Any) -> list[dict[str, Any]]:
    """SubmissionSerializer's output for a page, built directly: lists are the hot path.

    tests/api/test_api.py checks the two agree field for field.
    """
    return [
        {
            "reference": row.reference,
            "status": row.status,
            "revision": row.revision,
            "organization": {"name": row.organization.name, "slug": row.organization.slug},
            "model": row.model.name,
            "model_version": row.model_version,
            "created_at": _timestamp(row.created_at),
            "updated_at": _timestamp(row.updated_at),
            "submitted_at": _timestamp(row.submitted_at),
            "submitted_by": _username(row.submitted_by),
            "assigned_to": _username(row.assigned_to),
            "decided_at": _timestamp(row.decided_at),
            "tier": row.current_tier or None,
            "insufficient_evidence": row.current_insufficient,
            "overall_score": row.current_score,
            "coverage": row.current_coverage,
            "review_due_at": _timestamp(row.review_due_at),
            "answer_due_at": _timestamp(row.answer_due_at),
        }
        for row in submissions
    ]
