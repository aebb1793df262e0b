"""govportal's domain: organizations, filings, evidence, assessments, reviews, reports, audit.

Models hold fields, constraints and small properties of their own row. Every write goes
through `audits.services`; every shared read through `audits.selectors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from rest_framework_api_key.models import AbstractAPIKey

if TYPE_CHECKING:
    from audits.rubric import loader as engine


class OrganizationKind(models.TextChoices):
    LAB = "lab", "AI lab"
    REGULATOR = "regulator", "Regulator"


class Organization(models.Model):
    Kind = OrganizationKind

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values), name="organization_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_lab(self) -> bool:
        return self.kind == self.Kind.LAB

    @property
    def is_regulator(self) -> bool:
        return self.kind == self.Kind.REGULATOR


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    """A user's place in exactly one organization, with a role there."""

    Role = MembershipRole

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=MembershipRole.values), name="membership_role_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role_label})"

    @property
    def role_label(self) -> str:
        """The role as users name it: lab member, lab admin, regulator reviewer, regulator admin."""
        if self.organization.is_lab:
            return "lab admin" if self.role == self.Role.ADMIN else "lab member"
        return "regulator admin" if self.role == self.Role.ADMIN else "regulator reviewer"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class AIModel(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="ai_models"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI model"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="aimodel_unique_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReferenceCounter(models.Model):
    """The last reference number issued in a year; locked while a new one is taken."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Submission(models.Model):
    Status = SubmissionStatus

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="submissions"
    )
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="submissions")
    model_version = models.CharField(max_length=100)
    reference = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="assigned_submissions",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The newest assessment of the current revision, kept by the assessment service, with
    # the figures lists, queues and the portfolio show copied beside it: they count and sort
    # over these small columns and never read an assessment's result.
    current_assessment = models.ForeignKey(
        "Assessment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_tier = models.CharField(max_length=16, blank=True)
    current_score = models.FloatField(null=True, blank=True)
    current_coverage = models.FloatField(null=True, blank=True)
    current_insufficient = models.BooleanField(default=False)
    # The criteria at level 3 or above, as ",D4,T1," (commas around each id).
    current_severe = models.CharField(max_length=400, blank=True)
    # When the regulator's review is due (set on each submission from the tier's service
    # level), and when the lab must answer a change request (set by the reviewer, optional).
    review_due_at = models.DateTimeField(null=True, blank=True)
    answer_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["submitted_at", "id"]),
            models.Index(fields=["current_tier", "current_insufficient"]),
            models.Index(fields=["review_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values),
                name="submission_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(revision__gte=1), name="submission_revision_positive"
            ),
            models.CheckConstraint(
                condition=Q(reference__regex=r"^TA-[0-9]{4}-[0-9]{6}$"),
                name="submission_reference_format",
            ),
            # Anything past a draft has been submitted by someone at some time.
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="submission_submitted_at_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.model.name} {self.model_version}"

    @property
    def is_editable(self) -> bool:
        """The lab may add, remove and replace files: a draft, or after a change request."""
        return self.status in (self.Status.DRAFT, self.Status.CHANGES_REQUESTED)

    @property
    def working_revision(self) -> int:
        """The revision the lab is working on: the draft's, the next one after a change
        request, otherwise the revision under review."""
        if self.status == self.Status.CHANGES_REQUESTED:
            return self.revision + 1
        return self.revision


class SubmissionRevision(models.Model):
    """One submitted revision of a filing: revision 1 on first submission, +1 per resubmission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    facts_sha256 = models.CharField(max_length=64, blank=True)
    # The accuracy declaration the submitter made, word for word.
    declaration = models.TextField(blank=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="revision_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="revision_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} revision {self.number}"


def stored_file_path(instance: StoredFile, filename: str) -> str:
    # Generated names only: the client's file name never reaches the file system.
    digest = instance.sha256
    return f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"


class StoredFile(models.Model):
    """Uploaded bytes, stored once and addressed by their SHA-256."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    original_name = models.CharField(max_length=255)
    blob = models.FileField(upload_to=stored_file_path, max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="storedfile_sha256_hex"
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class SubmissionUpload(models.Model):
    """What model cards, diagnostics and evidence share: a file attached to one revision."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="%(class)ss")
    revision = models.PositiveIntegerField()
    stored_file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]


class ModelCard(SubmissionUpload):
    format = models.CharField(max_length=40)
    extracted = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.file_name


class DiagnosticUpload(SubmissionUpload):
    format = models.CharField(max_length=40)
    extracted = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    supersedes = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.file_name


class Evidence(SubmissionUpload):
    description = models.TextField(blank=True)

    class Meta(SubmissionUpload.Meta):
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.file_name


class Facts(models.Model):
    """The merged facts document of one submission revision, with provenance and its hash."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="facts")
    revision = models.PositiveIntegerField()
    document = models.JSONField()
    provenance = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    narrative = models.JSONField(default=list)
    # Card metadata and confidential marks, {key: {"value", "source"}}: shown, never scored
    # or part of sha256 (audits.intake.normalize.Facts).
    metadata = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "facts"
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "revision"], name="facts_one_per_revision"
            )
        ]

    def __str__(self) -> str:
        return f"facts {self.sha256[:12]} (revision {self.revision})"


class MetricAlias(models.Model):
    """An alias a regulator admin adds to map an external metric name to a catalogue id."""

    pattern = models.CharField(max_length=200, unique=True)
    metric = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "metric aliases"
        ordering = ["pattern"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.metric}"


class Rubric(models.Model):
    """A rubric version as loaded from `audits/rubrics/`; never edited, only superseded."""

    urn = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    content = models.JSONField()
    in_force = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["urn", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["urn", "version"], name="rubric_unique_version"),
            models.UniqueConstraint(
                fields=["urn"], condition=Q(in_force=True), name="rubric_one_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.urn}@{self.version}"

    def engine_form(self) -> engine.Rubric:
        """The rubric engine's view of this stored version (validated when it was loaded)."""
        from audits.rubric.loader import Rubric as EngineRubric

        return EngineRubric(
            urn=self.urn, version=self.version, sha256=self.sha256, content=self.content
        )


class AssessmentTier(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Assessment(models.Model):
    Tier = AssessmentTier

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="assessments")
    revision = models.PositiveIntegerField()
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="assessments")
    facts_sha256 = models.CharField(max_length=64)
    overall_score = models.FloatField()
    tier = models.CharField(max_length=16, choices=Tier.choices)
    coverage = models.FloatField()
    insufficient_evidence = models.BooleanField()
    result = models.JSONField()
    engine_version = models.CharField(max_length=20)
    # Set when this assessment re-scores an earlier one under another rubric version.
    rescored_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    diff = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.CheckConstraint(
                condition=Q(overall_score__gte=0) & Q(overall_score__lte=100),
                name="assessment_score_range",
            ),
            models.CheckConstraint(
                condition=Q(coverage__gte=0) & Q(coverage__lte=1), name="assessment_coverage_range"
            ),
            models.CheckConstraint(
                condition=Q(tier__in=AssessmentTier.values),
                name="assessment_tier_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} {self.overall_score:.2f} (revision {self.revision})"


class OverrideStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    PENDING = "pending", "Waiting for confirmation"
    DROPPED = "dropped", "Dropped"


class Override(models.Model):
    """A regulator's level for one criterion, kept beside the automated level.

    An override belongs to one assessment. When the filing is assessed again (a new
    revision, a new rubric version) it is carried to the new assessment: applied as it was
    when the criterion's automated level and the facts it read are unchanged, otherwise
    waiting for a reviewer to confirm or drop it, never silently gone.
    """

    Status = OverrideStatus

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="overrides")
    criterion = models.CharField(max_length=20)
    automated_level = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    reason = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED)
    # The revision the reviewer made it on, and the override it was carried from.
    origin_revision = models.PositiveIntegerField()
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why a carried override waits for confirmation, or why it was dropped.
    status_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="override_one_per_criterion"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="override_reason_required"),
            models.CheckConstraint(
                condition=Q(status__in=OverrideStatus.values),
                name="override_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.automated_level} → {self.level} ({self.status})"

    @property
    def carried(self) -> bool:
        return self.carried_from_id is not None


class ReviewDecision(models.TextChoices):
    REQUEST_CHANGES = "request_changes", "Changes requested"
    ACCEPT = "accept", "Accepted"
    REJECT = "reject", "Rejected"


class Review(models.Model):
    Decision = ReviewDecision

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reviews")
    revision = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    rationale = models.TextField()
    # With a change request: the date by which the lab is asked to answer.
    answer_due_at = models.DateTimeField(null=True, blank=True)
    # An acceptance's conditions or outstanding items, one sentence each, in order.
    conditions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(rationale=""), name="review_rationale_required"),
            models.CheckConstraint(
                condition=Q(decision__in=ReviewDecision.values),
                name="review_decision_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} (revision {self.revision})"


class Comment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="comments")
    revision = models.PositiveIntegerField()
    criterion = models.CharField(max_length=20, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="comment_body_required")]

    def __str__(self) -> str:
        return f"comment on {self.criterion or 'the filing'}"


class ReportKind(models.TextChoices):
    PROVISIONAL = "provisional", "Provisional"
    FINAL = "final", "Final"


class ReportVariant(models.TextChoices):
    CONFIDENTIAL = "confidential", "Confidential"
    PUBLIC = "public", "Public"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Report(models.Model):
    """One issued PDF: a version of a submission's report in one variant.

    A final version exists twice, confidential (everything; for the regulator and the lab)
    and public (for publication), each signed by the authority; a provisional version is
    confidential and unsigned.
    """

    Kind = ReportKind
    Variant = ReportVariant
    Status = ReportStatus

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reports")
    revision = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    variant = models.CharField(max_length=16, choices=Variant.choices, default=Variant.CONFIDENTIAL)
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    pdf = models.ForeignKey(
        StoredFile, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # Recorded when the version is requested, so a re-rendering prints what was true then.
    rubric_status = models.CharField(max_length=16, blank=True)
    # A final version issued again after the decision: why, and which version it corrects.
    correction_reason = models.TextField(blank=True)
    corrects_version = models.PositiveIntegerField(null=True, blank=True)
    # The signature of a final report: the PDF before signing (its first revision), the
    # PAdES level, and the signing certificate.
    unsigned_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    signature_level = models.CharField(max_length=16, blank=True)
    signer_subject = models.CharField(max_length=500, blank=True)
    signer_fingerprint = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "-version", "variant"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "version", "variant"], name="report_unique_version_variant"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReportKind.values), name="report_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(variant__in=ReportVariant.values), name="report_variant_valid"
            ),
            # Only a decided (final) report is published.
            models.CheckConstraint(
                condition=Q(variant="confidential") | Q(kind="final"),
                name="report_public_only_final",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values),
                name="report_status_valid",
            ),
            # A ready report always has its PDF and hash.
            models.CheckConstraint(
                condition=~Q(status="ready") | (Q(pdf__isnull=False) & ~Q(sha256="")),
                name="report_ready_has_pdf",
            ),
            models.CheckConstraint(
                condition=Q(corrects_version__isnull=True) | ~Q(correction_reason=""),
                name="report_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"report v{self.version} ({self.kind}, {self.variant}, {self.status})"

    @property
    def is_signed(self) -> bool:
        return bool(self.signer_fingerprint)


class AuditChainHead(models.Model):
    """The last event of the audit chain; locked while an event is appended."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head at #{self.last_sequence}"


class AuditEvent(models.Model):
    """An append-only, hash-chained record of a state change."""

    sequence = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    actor_label = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="auditevent_sequence_positive"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class APIKeyScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class OrganizationAPIKey(AbstractAPIKey):
    """A machine's key to the REST API: one organization, read or read-write, shown once.

    The library keeps the prefix and a SHA-512 of the key (never the key), the expiry and
    the revocation. Each key acts through its own principal, an inactive user who is a
    plain member of the organization, so services check its role like anyone else's and
    the audit log names the key rather than the person who created it.
    """

    Scope = APIKeyScope

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="api_keys"
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.READ)
    principal = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "organization API key"
        verbose_name_plural = "organization API keys"
        indexes = [models.Index(fields=["organization", "revoked"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=APIKeyScope.values), name="apikey_scope_valid"
            )
        ]

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed for its repeats."""

    State = IdempotencyState

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key_per_user"),
            models.CheckConstraint(
                condition=Q(state__in=IdempotencyState.values), name="idempotency_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class OutboxMessage(models.Model):
    """Background work recorded in the transaction of the change that calls for it.

    A row is written beside the change and handed to Celery (or the in-process runner)
    once that transaction commits; a periodic sweep hands over whatever is still unsent,
    so a broker outage delays work but never loses it.
    """

    task = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Carried to the task (e.g. the request id for logs); never read by the task's logic.
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at"], condition=Q(sent_at__isnull=True), name="outbox_unsent"
            )
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else f"unsent after {self.attempts} attempts"
        return f"{self.task} #{self.pk} ({state})"


# --- People in the loop: notifications and webhooks ----------------------------------------


class Notification(models.Model):
    """Something a person should know about a filing, from one audit event; shown in the
    portal (the bell) and, if they want it, emailed."""

    class Kind(models.TextChoices):
        SUBMISSION_RECEIVED = "submission_received", "A filing is submitted"
        ASSIGNMENT = "assignment", "A filing is assigned to me, or taken from me"
        REVIEW_DUE = "review_due", "A review I hold is due soon, or overdue"
        CHANGES_REQUESTED = "changes_requested", "Changes are requested on our filing"
        DECISION = "decision", "Our filing is decided"
        REPORT_READY = "report_ready", "A new report is ready"
        COMMENT = "comment", "A comment from the other side"
        KEY_EXPIRING = "key_expiring", "An API key is about to expire"
        AUDIT_CHAIN_BREAK = "audit_chain_break", "The audit chain does not verify"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # A path in the portal ("/submissions/TA-…/"); emails make it absolute.
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            # An event told twice (a retried task) still makes one notification each.
            models.UniqueConstraint(
                fields=["recipient", "event", "kind"], name="notification_once_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.subject}"


class NotificationPreference(models.Model):
    """Whether a person gets one kind of notification by email (in the portal: always).

    No row means the default: email on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=Notification.Kind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: email {'on' if self.email else 'off'}"


class WebhookEndpoint(models.Model):
    """An HTTPS address of a lab's pipeline that is told about its filings' events."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # The signing secret ("whsec_" + base64); during a rotation's grace period the previous
    # one signs too, so receivers can switch without missing a delivery.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "url"],
                condition=Q(disabled_at__isnull=True),
                name="webhook_endpoint_unique_active_url",
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(models.Model):
    """One message to one endpoint; its `message_id` is the `webhook-id` receivers
    deduplicate by, the same on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message_id"], name="webhook_delivery_once_per_message"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]),
                name="webhook_delivery_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try at a delivery: when, the response code (or why there was none), how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.response_status or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


class RubricPublication(models.Model):
    """One publication of a rubric version and the re-scoring of every filing it set off.

    Counts are kept by the rescoring tasks as they finish each chunk; each filing's outcome
    (re-scored, skipped, failed with its reason) is a `RescoreOutcome`.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Re-scoring"
        DONE = "done", "Done"

    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="publications")
    # The version in force before this one (none on a fresh installation).
    previous_rubric = models.ForeignKey(
        Rubric, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # None when an operator published from the command line.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    published_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done"]),
                name="rubricpublication_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total"))
                & Q(skipped__lte=models.F("total"))
                & Q(failed__lte=models.F("total")),
                name="rubricpublication_counts_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rubric} published {self.published_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def finished_count(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.finished_count / self.total)


class RescoreOutcome(models.Model):
    """What re-scoring one filing under a publication's rubric came to."""

    class Status(models.TextChoices):
        RESCORED = "rescored", "Re-scored"
        SKIPPED = "skipped", "Already assessed under this version"
        FAILED = "failed", "Failed"

    publication = models.ForeignKey(
        RubricPublication, on_delete=models.CASCADE, related_name="outcomes"
    )
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices)
    previous = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    # Copied from the assessment so the diff page filters without reading its JSON.
    tier_changed = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["publication", "submission"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "submission"], name="rescoreoutcome_one_per_filing"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["rescored", "skipped", "failed"]),
                name="rescoreoutcome_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""),
                name="rescoreoutcome_failure_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["publication", "status"])]

    def __str__(self) -> str:
        return f"{self.submission_id} under publication {self.publication_id}: {self.status}"


__all__ = [
    "AIModel",
    "Assessment",
    "AuditChainHead",
    "AuditEvent",
    "Comment",
    "DiagnosticUpload",
    "Evidence",
    "Facts",
    "IdempotencyRecord",
    "Membership",
    "MetricAlias",
    "ModelCard",
    "Notification",
    "NotificationPreference",
    "Organization",
    "OrganizationAPIKey",
    "OutboxMessage",
    "Override",
    "ReferenceCounter",
    "Report",
    "RescoreOutcome",
    "Review",
    "Rubric",
    "RubricPublication",
    "StoredFile",
    "Submission",
    "SubmissionRevision",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
