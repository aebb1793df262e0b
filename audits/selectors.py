"""Reads shared by the portal and the API, always scoped to what the acting user may see.

A lab sees its own organization's rows; a regulator sees every submission that is not a
draft. Anything else is invisible: lookups raise DoesNotExist (a 404), never a 403 that
would confirm another tenant's object exists.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import timezone

from audits import intake
from audits import rubric as engine
from audits.errors import NotPermitted
from audits.intake.types import IntakeError, IntakeErrors
from audits.models import (
    Assessment,
    AuditEvent,
    Comment,
    DiagnosticUpload,
    Evidence,
    Facts,
    Membership,
    ModelCard,
    Organization,
    OrganizationAPIKey,
    Override,
    Report,
    Review,
    Rubric,
    StoredFile,
    Submission,
)
from audits.roles import (
    membership_of,
    require_lab_admin,
    require_lab_member,
    require_membership,
    require_regulator,
    require_regulator_admin,
)
from audits.services.assessment import assessment_compute
from audits.services.intake import aliases_in_force, imports_for_revision, working_revision
from audits.services.rubrics import rubric_engine_form, rubric_in_force


def submissions_visible_to(user: Any) -> QuerySet[Submission]:
    membership = membership_of(user)
    queryset = Submission.objects.select_related(
        "organization", "model", "assigned_to", "submitted_by"
    )
    if membership is None:
        return queryset.none()
    if membership.organization.is_regulator:
        return queryset.exclude(status=Submission.Status.DRAFT)
    return queryset.filter(organization_id=membership.organization_id)


def submission_get(*, user: Any, reference: str) -> Submission:
    """The submission with this reference if `user` may see it, else Submission.DoesNotExist."""
    return submissions_visible_to(user).get(reference=reference)


def audit_events_for_submission(*, user: Any, submission: Submission) -> QuerySet[AuditEvent]:
    # Visibility follows the submission: whoever may see it may see its history.
    submission_get(user=user, reference=submission.reference)
    return AuditEvent.objects.filter(
        object_type="submission", object_id=submission.reference
    ).select_related("actor")


# --- The portal's reads -------------------------------------------------------------------

TIER_ORDER = ("low", "moderate", "high", "critical")
QUEUE_SORTS = {
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "reference": ("reference",),
    "-reference": ("-reference",),
    "lab": ("organization__name", "reference"),
    "-lab": ("-organization__name", "reference"),
    "tier": ("tier_rank", "-latest_score", "reference"),
    "-tier": ("-tier_rank", "-latest_score", "reference"),
    "score": ("latest_score", "reference"),
    "-score": ("-latest_score", "reference"),
    "status": ("status", "reference"),
    "-status": ("-status", "reference"),
}
QUEUE_AGES = {"7": 7, "14": 14, "30": 30, "90": 90}


def with_latest_assessment(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """Annotate each submission with its current revision's newest tier, score and coverage."""
    return queryset.annotate(
        latest_tier=F("current_assessment__tier"),
        latest_score=F("current_assessment__overall_score"),
        latest_coverage=F("current_assessment__coverage"),
        latest_insufficient=F("current_assessment__insufficient_evidence"),
        tier_rank=Case(
            *(When(latest_tier=tier, then=Value(rank)) for rank, tier in enumerate(TIER_ORDER)),
            default=Value(-1),
            output_field=IntegerField(),
        ),
    )


def lab_filings(*, user: Any) -> QuerySet[Submission]:
    """A lab's filings, newest first, with their current tier (one query whatever the count)."""
    membership = require_membership(user)
    if not membership.organization.is_lab:
        return Submission.objects.none()
    return with_latest_assessment(submissions_visible_to(user)).order_by("-updated_at", "-id")


@dataclass(frozen=True)
class QueueFilters:
    tier: str = ""
    status: str = ""
    lab: str = ""  # organization slug
    age: str = ""  # waiting at least this many days since submission (QUEUE_AGES)
    mine: bool = False
    sort: str = "-submitted"

    @property
    def active(self) -> bool:
        return bool(self.tier or self.status or self.lab or self.age or self.mine)


def review_queue(*, user: Any, filters: QueueFilters | None = None) -> QuerySet[Submission]:
    """Filed (never draft) submissions a regulator works on, filtered and sorted."""
    require_regulator(user)
    filters = filters or QueueFilters()
    queryset = with_latest_assessment(submissions_visible_to(user))
    if filters.tier in TIER_ORDER:
        # An annotation, which the type checker cannot see: passed by name.
        queryset = queryset.filter(**{"latest_tier": filters.tier})
    if filters.status in Submission.Status.values:
        queryset = queryset.filter(status=filters.status)
    if filters.lab:
        queryset = queryset.filter(organization__slug=filters.lab)
    if filters.age in QUEUE_AGES:
        cutoff = timezone.now() - timedelta(days=QUEUE_AGES[filters.age])
        queryset = queryset.filter(submitted_at__lte=cutoff)
    if filters.mine:
        queryset = queryset.filter(assigned_to_id=user.pk)
    return queryset.order_by(*QUEUE_SORTS.get(filters.sort, QUEUE_SORTS["-submitted"]))


def queue_labs(*, user: Any) -> QuerySet[Organization]:
    require_regulator(user)
    return Organization.objects.filter(kind=Organization.Kind.LAB).order_by("name")


def regulator_reviewers(*, user: Any) -> QuerySet[Membership]:
    """The people of the acting regulator who can be assigned a submission."""
    membership = require_regulator(user)
    return (
        Membership.objects.filter(organization_id=membership.organization_id, user__is_active=True)
        .select_related("user", "organization")
        .order_by("user__username")
    )


@dataclass
class SubmissionPage:
    """Everything the submission page shows, read in a fixed number of queries."""

    submission: Submission
    working_revision: int  # the revision files are added to (or the current one)
    facts: Facts | None
    assessment: Assessment | None
    previous_assessment: Assessment | None
    overrides: dict[str, Override]
    model_cards: list[ModelCard]
    diagnostics: list[DiagnosticUpload]
    evidence: list[Evidence]
    comments: list[Comment]
    reviews: list[Review]
    reports: list[Report]
    events: list[AuditEvent]
    rubric: Rubric | None = None
    # The engine's result for the working facts under the rubric in force (drafts and
    # filings being changed); computed, never stored.
    preview: dict[str, Any] | None = None

    @property
    def comments_by_criterion(self) -> dict[str, list[Comment]]:
        grouped: dict[str, list[Comment]] = defaultdict(list)
        for comment in self.comments:
            grouped[comment.criterion].append(comment)
        return dict(grouped)


def _working_revision(submission: Submission) -> int:
    if submission.status == Submission.Status.CHANGES_REQUESTED:
        return submission.revision + 1
    return submission.revision


def submission_page(*, user: Any, reference: str) -> SubmissionPage:
    """The submission and all it carries, if `user` may see it (else Submission.DoesNotExist)."""
    submission = submission_get(user=user, reference=reference)
    revision = _working_revision(submission)
    facts = Facts.objects.filter(submission=submission, revision=revision).first()
    if facts is None and revision != submission.revision:
        facts = Facts.objects.filter(submission=submission, revision=submission.revision).first()
    assessments = list(
        Assessment.objects.filter(submission=submission)
        .select_related("rubric", "rescored_from__rubric")
        .order_by("-created_at", "-id")[:2]
    )
    assessment = assessments[0] if assessments else None
    overrides = (
        {
            override.criterion: override
            for override in Override.objects.filter(assessment=assessment).select_related("author")
        }
        if assessment
        else {}
    )
    uploads = {"submission": submission, "revision__lte": revision}
    rubric = assessment.rubric if assessment else Rubric.objects.filter(in_force=True).first()
    preview = None
    editable = submission.status in (Submission.Status.DRAFT, Submission.Status.CHANGES_REQUESTED)
    if editable and facts is not None and facts.revision == revision:
        rubric = Rubric.objects.filter(in_force=True).first() or rubric
        if rubric is not None:
            preview = assessment_compute(facts=facts, rubric=rubric)
    return SubmissionPage(
        rubric=rubric,
        preview=preview,
        submission=submission,
        working_revision=revision,
        facts=facts,
        assessment=assessment,
        previous_assessment=assessments[1] if len(assessments) > 1 else None,
        overrides=overrides,
        model_cards=list(ModelCard.objects.filter(**uploads).select_related("stored_file")),
        diagnostics=list(DiagnosticUpload.objects.filter(**uploads).select_related("stored_file")),
        evidence=list(Evidence.objects.filter(**uploads).select_related("stored_file")),
        comments=list(Comment.objects.filter(submission=submission).select_related("author")),
        reviews=list(Review.objects.filter(submission=submission).select_related("reviewer")),
        reports=list(
            Report.objects.filter(submission=submission).select_related("pdf").order_by("-version")
        ),
        events=list(
            AuditEvent.objects.filter(
                object_type="submission", object_id=submission.reference
            ).order_by("sequence")
        ),
    )


def submission_reports(*, user: Any, reference: str) -> tuple[Submission, list[Report]]:
    submission = submission_get(user=user, reference=reference)
    reports = (
        Report.objects.filter(submission=submission).select_related("pdf").order_by("-version")
    )
    return submission, list(reports)


def report_get(*, user: Any, reference: str, version: int) -> Report:
    """A report of a submission `user` may see (Report.DoesNotExist otherwise)."""
    submission = submission_get(user=user, reference=reference)
    return Report.objects.select_related("pdf", "submission").get(
        submission=submission, version=version
    )


def submission_file_get(*, user: Any, reference: str, sha256: str) -> tuple[StoredFile, str]:
    """An uploaded file of a submission `user` may see, with the name it was uploaded under."""
    submission = submission_get(user=user, reference=reference)
    for upload_model in (Evidence, ModelCard, DiagnosticUpload):
        upload = (
            upload_model.objects.filter(submission=submission, stored_file__sha256=sha256)
            .select_related("stored_file")
            .first()
        )
        if upload is not None:
            return upload.stored_file, upload.file_name
    raise StoredFile.DoesNotExist(f"No file {sha256} in {reference}.")


def organization_members(*, user: Any) -> QuerySet[Membership]:
    """The members of the acting admin's organization."""
    membership = require_membership(user)
    if not membership.is_admin:
        raise NotPermitted(f"Only an admin of {membership.organization.name} may manage members.")
    return (
        Membership.objects.filter(organization_id=membership.organization_id)
        # API keys act through principals of their own; they are listed as keys, not people.
        .filter(user__api_key__isnull=True)
        .select_related("user", "organization")
        .order_by("user__username")
    )


@dataclass
class Portfolio:
    """What the portfolio page charts: current tiers of every filed submission."""

    total: int
    tiers: Counter[str]
    tiers_by_lab: dict[str, Counter[str]]
    tiers_by_month: dict[str, Counter[str]]
    level3_counts: list[tuple[str, str, int]]  # (criterion id, name, submissions at level 3)
    coverage_values: list[float]
    coverage_by_lab: dict[str, float]
    insufficient: int
    statuses: Counter[str]


def portfolio(*, user: Any) -> Portfolio:
    """Portfolio analytics over every filed submission's current assessment (three queries)."""
    require_regulator_admin(user)
    submissions = list(
        with_latest_assessment(submissions_visible_to(user))
        .annotate(latest_assessment_id=F("current_assessment_id"))
        .order_by("submitted_at", "id")
    )
    assessment_ids = [s.latest_assessment_id for s in submissions if s.latest_assessment_id]
    results = dict(
        Assessment.objects.filter(pk__in=assessment_ids).values_list("submission_id", "result")
    )
    tiers: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    by_lab: dict[str, Counter[str]] = defaultdict(Counter)
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    coverage_by_lab_values: dict[str, list[float]] = defaultdict(list)
    coverage_values: list[float] = []
    level3: Counter[str] = Counter()
    names: dict[str, str] = {}
    insufficient = 0
    for submission in submissions:
        statuses[submission.status] += 1
        tier = getattr(submission, "latest_tier", None)
        if tier is None:
            continue
        tiers[tier] += 1
        by_lab[submission.organization.name][tier] += 1
        month = submission.submitted_at.strftime("%Y-%m") if submission.submitted_at else "—"
        by_month[month][tier] += 1
        coverage = float(getattr(submission, "latest_coverage", None) or 0)
        coverage_values.append(coverage)
        coverage_by_lab_values[submission.organization.name].append(coverage)
        insufficient += bool(getattr(submission, "latest_insufficient", False))
        for criterion in (results.get(submission.pk) or {}).get("criteria", []):
            names[criterion["id"]] = criterion.get("name", "")
            if criterion.get("level", 0) >= 3:
                level3[criterion["id"]] += 1
    return Portfolio(
        total=len(submissions),
        tiers=tiers,
        tiers_by_lab=dict(sorted(by_lab.items())),
        tiers_by_month=dict(sorted(by_month.items())),
        level3_counts=[(cid, names.get(cid, ""), n) for cid, n in level3.most_common(10)],
        coverage_values=coverage_values,
        coverage_by_lab={
            lab: sum(values) / len(values) for lab, values in sorted(coverage_by_lab_values.items())
        },
        insufficient=insufficient,
        statuses=statuses,
    )


# --- The REST API's reads -----------------------------------------------------------------

API_SUBMISSION_ORDERINGS = {
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "reference": ("reference",),
    "-reference": ("-reference",),
    "score": ("latest_score", "id"),
    "-score": ("-latest_score", "-id"),
}


API_SUBMISSION_COLUMNS = (
    "reference",
    "status",
    "revision",
    "model_version",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
    "organization__name",
    "organization__slug",
    "organization__kind",
    "model__name",
    "submitted_by__username",
    "assigned_to__username",
)


@dataclass(frozen=True)
class SubmissionListFilters:
    statuses: tuple[str, ...] = ()
    model: str = ""  # the AI model's name, exact
    model_version: str = ""
    tiers: tuple[str, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None
    ordering: str = "-created"


def submissions_listed(
    *, user: Any, filters: SubmissionListFilters | None = None
) -> QuerySet[Submission]:
    """What `user` may see, filtered and ordered, with the current tier: one query per page."""
    filters = filters or SubmissionListFilters()
    queryset = with_latest_assessment(submissions_visible_to(user))
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.model:
        queryset = queryset.filter(model__name=filters.model)
    if filters.model_version:
        queryset = queryset.filter(model_version=filters.model_version)
    if filters.tiers:
        queryset = queryset.filter(latest_tier__in=filters.tiers)  # type: ignore[misc]
    for lookup, value in (
        ("created_at__gte", filters.created_after),
        ("created_at__lt", filters.created_before),
        ("submitted_at__gte", filters.submitted_after),
        ("submitted_at__lt", filters.submitted_before),
    ):
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    ordering = API_SUBMISSION_ORDERINGS.get(filters.ordering, API_SUBMISSION_ORDERINGS["-created"])
    # Narrow rows: the database sorts every visible row before it takes a page.
    return queryset.only(*API_SUBMISSION_COLUMNS).order_by(*ordering)


@dataclass
class SubmissionFiles:
    submission: Submission
    model_cards: list[ModelCard]
    diagnostics: list[DiagnosticUpload]
    evidence: list[Evidence]


def submission_with_files(*, user: Any, reference: str) -> SubmissionFiles:
    """A visible submission with its current tier and every file of every revision."""
    submission = with_latest_assessment(submissions_visible_to(user)).get(reference=reference)
    files = {"submission": submission}
    return SubmissionFiles(
        submission=submission,
        model_cards=list(ModelCard.objects.filter(**files).select_related("stored_file")),
        diagnostics=list(DiagnosticUpload.objects.filter(**files).select_related("stored_file")),
        evidence=list(Evidence.objects.filter(**files).select_related("stored_file")),
    )


def submission_assessments(*, user: Any, reference: str) -> QuerySet[Assessment]:
    """Every stored assessment of a visible submission, newest first, with their overrides."""
    submission = submission_get(user=user, reference=reference)
    return (
        Assessment.objects.filter(submission=submission)
        .select_related("rubric", "rescored_from__rubric")
        .prefetch_related("overrides__author")
        .order_by("-created_at", "-id")
    )


def submission_comments(*, user: Any, reference: str) -> QuerySet[Comment]:
    submission = submission_get(user=user, reference=reference)
    return Comment.objects.filter(submission=submission).select_related("author")


def rubrics_published(*, user: Any) -> QuerySet[Rubric]:
    """Every stored rubric version: labs and regulators alike read the method they are held to."""
    require_membership(user)
    return Rubric.objects.order_by("urn", "-loaded_at")


def api_keys_of_organization(*, user: Any) -> QuerySet[OrganizationAPIKey]:
    """The acting lab admin's organization's keys (revoked ones included), newest first."""
    membership = require_membership(user)
    require_lab_admin(user, membership.organization)
    return (
        OrganizationAPIKey.objects.filter(organization_id=membership.organization_id)
        .select_related("organization", "created_by")
        .order_by("-created")
    )


def api_key_get(*, user: Any, prefix: str) -> OrganizationAPIKey:
    """A key of the acting user's organization (DoesNotExist for anyone else's), for its admin."""
    membership = require_membership(user)
    api_key = OrganizationAPIKey.objects.select_related("organization", "created_by").get(
        organization_id=membership.organization_id, prefix=prefix
    )
    require_lab_admin(user, membership.organization)
    return api_key


@dataclass
class Preview:
    """The assessment the working facts would get with a filing-form document added."""

    result: dict[str, Any] | None
    errors: list[IntakeError]
    document: dict[str, Any]
    provenance: dict[str, Any]


def assessment_preview(*, user: Any, reference: str, document: dict[str, Any]) -> Preview:
    """Merge `document` (as a native filing) with the filing's working inputs and assess the
    result under the rubric in force, without storing anything."""
    submission = submission_get(user=user, reference=reference)
    require_lab_member(user, submission.organization)
    revision = working_revision(submission)
    imports, superseded = imports_for_revision(submission, revision)
    content = json.dumps(document, sort_keys=True, allow_nan=False).encode()
    try:
        extra = intake.import_file(
            "filing form",
            content,
            aliases=aliases_in_force(),
            max_bytes=settings.GOVPORTAL_MAX_UPLOAD_BYTES,
        )
        # The submission record's identity stays last, as facts_build orders it.
        merged = intake.merge([*imports[:-1], extra, imports[-1]], superseded=superseded)
    except IntakeErrors as invalid:
        return Preview(None, list(invalid.errors), {}, {})
    except IntakeError as invalid:
        return Preview(None, [invalid], {}, {})
    rubric = rubric_in_force()
    result = engine.assess(rubric_engine_form(rubric), merged.document, merged.provenance)
    return Preview(result.to_dict(), [], merged.document, merged.provenance)
