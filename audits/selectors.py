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
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from audits import intake
from audits import rubric as engine
from audits.errors import ServiceError
from audits.intake.aliases import Aliases, default_aliases
from audits.intake.types import (
    Imported,
    IntakeError,
    IntakeErrors,
    describe_location,
    imported_from_dict,
)
from audits.models import (
    Assessment,
    AuditEvent,
    Comment,
    DiagnosticUpload,
    Evidence,
    Facts,
    Membership,
    MetricAlias,
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
    ensure,
    is_lab_staff,
    is_regulator,
    may_manage_api_keys,
    may_manage_members,
    may_manage_metric_aliases,
    may_view_portfolio,
    may_work_on_filing,
    membership_of,
    require_membership,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

DEFAULT_RUBRIC_URN = "urn:govportal:rubric:mesa-optimization"


# --- The method in force: rubric, aliases, facts and their assessment ----------------------


def rubric_in_force(urn: str = DEFAULT_RUBRIC_URN) -> Rubric:
    rubric = Rubric.objects.filter(urn=urn, in_force=True).first()
    if rubric is None:
        raise ServiceError(f"No version of {urn} is in force; run `python manage.py load_rubrics`.")
    return rubric


def aliases_in_force() -> Aliases:
    """The shipped alias file extended by the rows regulator admins added."""
    extra = dict(MetricAlias.objects.values_list("pattern", "metric"))
    return default_aliases().extended(extra) if extra else default_aliases()


def portal_source(submission: Submission) -> str:
    """Where facts typed into the portal come from, as provenance names it."""
    who = submission.created_by.get_username() if submission.created_by else "the lab"
    return f"entered in the portal by {who}"


def _portal_entries(submission: Submission, imports: list[Imported]) -> Imported:
    """The name and version typed when the filing was opened, as facts of their own.

    A file that says otherwise wins, with a warning; so does a developer who is not the
    filing lab, which a regulator should see.
    """
    source = portal_source(submission)
    entries = Imported(source=source, kind="portal")
    supplied = {
        path: (value, imported.provenance.get(path))
        for imported in imports
        for path, value in imported.fields.items()
    }
    for path, typed in (
        ("model.name", submission.model.name),
        ("model.version", submission.model_version),
    ):
        location = intake.Location(file=source, field=path)
        if path not in supplied:
            entries.set_fact(path, typed, location)
        elif str(supplied[path][0]).strip() != typed:
            where = describe_location(supplied[path][1])
            entries.warn(
                f"{path} is {supplied[path][0]!r} in {where}, but {typed!r} was entered when "
                "the filing was opened",
                location,
            )
    developer, origin = supplied.get("model.developer", (None, None))
    lab = submission.organization.name
    if developer is not None and str(developer).strip().casefold() != lab.casefold():
        entries.warn(
            f"model.developer is {developer!r} ({describe_location(origin)}), which is "
            f"not the filing lab, {lab}: the lab files for a model it says someone else made",
            intake.Location(file=source, field="model.developer"),
        )
    return entries


def imports_for_revision(submission: Submission, revision: int) -> tuple[list[Imported], set[str]]:
    """Every input a revision's facts merge, oldest first, and the sources marked superseded.

    A revision carries the files of the revisions before it: answering a change request
    means adding or superseding files, not uploading everything again. What was typed into
    the portal comes last.
    """
    uploads = {"submission": submission, "revision__lte": revision}
    cards = ModelCard.objects.filter(**uploads).order_by("uploaded_at", "id")
    diagnostics = DiagnosticUpload.objects.filter(**uploads).order_by("uploaded_at", "id")
    evidence = Evidence.objects.filter(**uploads).order_by("uploaded_at", "id")
    imports = [imported_from_dict(card.extracted) for card in cards]
    imports += [imported_from_dict(upload.extracted) for upload in diagnostics]
    superseded = {upload.supersedes for upload in diagnostics if upload.supersedes}
    if evidence:
        imports.append(
            Imported(
                source="evidence uploads",
                kind="evidence",
                evidence=[
                    {"file": item.file_name, "description": item.description} for item in evidence
                ],
            )
        )
    imports.append(_portal_entries(submission, imports))
    return imports, superseded


def facts_merge(
    submission: Submission, revision: int, *, extra: Imported | None = None
) -> intake.Facts:
    """A revision's inputs (and `extra`, e.g. a filing form being filled in) merged into
    facts, without storing anything. Raises the intake's errors on conflicting inputs."""
    imports, superseded = imports_for_revision(submission, revision)
    if extra is not None:
        imports.insert(len(imports) - 1, extra)
    return intake.merge(imports, superseded=superseded)


def assessment_compute(
    *, document: dict[str, Any], provenance: dict[str, Any], rubric: Rubric
) -> dict[str, Any]:
    """The engine's result for a facts document under `rubric`, as it is stored."""
    return engine.assess(rubric.engine_form(), document, provenance).to_dict()


def assessment_reviewed(assessment: Assessment) -> dict[str, Any]:
    """The assessment's result with the regulators' applied overrides (no writes).

    Scores, tier and gates are recomputed from the overridden levels; each overridden
    criterion keeps its automated level beside the override. Without overrides, the stored
    result as it is.
    """
    levels = {
        override.criterion: override.level
        for override in assessment.overrides.all()
        if override.status == Override.Status.APPLIED
    }
    if not levels:
        return assessment.result
    facts = Facts.objects.get(submission_id=assessment.submission_id, revision=assessment.revision)
    return engine.apply_overrides(
        assessment.rubric.engine_form(), assessment.result, levels, facts=facts.document
    )


@dataclass(frozen=True)
class MetricAliasBook:
    """The aliases in force: the shipped file's rules and the rows regulator admins added."""

    shipped: list[tuple[str, str]]  # (key, catalogue metric)
    added: QuerySet[MetricAlias]


def metric_alias_book(*, user: AnyUser) -> MetricAliasBook:
    ensure(may_manage_metric_aliases(user), "Only a regulator admin keeps metric aliases.")
    return MetricAliasBook(
        shipped=[(rule.key, rule.metric) for rule in default_aliases().rules],
        added=MetricAlias.objects.select_related("created_by").order_by("pattern"),
    )


# --- Visibility ---------------------------------------------------------------------------


def submissions_visible_to(user: AnyUser) -> QuerySet[Submission]:
    membership = membership_of(user)
    queryset = Submission.objects.select_related(
        "organization", "model", "assigned_to", "submitted_by"
    )
    if membership is None:
        return queryset.none()
    if membership.organization.is_regulator:
        return queryset.exclude(status=Submission.Status.DRAFT)
    return queryset.filter(organization_id=membership.organization_id)


def submission_get(*, user: AnyUser, reference: str) -> Submission:
    """The submission with this reference if `user` may see it, else Submission.DoesNotExist."""
    return (
        submissions_visible_to(user)
        .select_related("created_by", "current_assessment__rubric")
        .get(reference=reference)
    )


def audit_events_for_submission(*, user: AnyUser, submission: Submission) -> QuerySet[AuditEvent]:
    """A filing's history as `user` may read it: whoever may see the filing sees its events,
    but a regulator not the lab's work on an answer not yet sent."""
    submission = submission_get(user=user, reference=submission.reference)
    return _history(submission, revision_visible_to(user, submission))


def _history(submission: Submission, revision: int) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(object_type="submission", object_id=submission.reference)
        .exclude(payload__revision__gt=revision)
        .select_related("actor")
        .order_by("sequence")
    )


# --- The portal's reads -------------------------------------------------------------------

TIER_ORDER = ("low", "moderate", "high", "critical")
QUEUE_SORTS = {
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "reference": ("reference",),
    "-reference": ("-reference",),
    "lab": ("organization__name", "reference"),
    "-lab": ("-organization__name", "reference"),
    "tier": ("tier_rank", "-current_score", "reference"),
    "-tier": ("-tier_rank", "-current_score", "reference"),
    "score": ("current_score", "reference"),
    "-score": ("-current_score", "reference"),
    "status": ("status", "reference"),
    "-status": ("-status", "reference"),
    "due": (F("review_due_at").asc(nulls_last=True), "id"),
    "-due": (F("review_due_at").desc(nulls_last=True), "-id"),
}
QUEUE_AGES = {"7": 7, "14": 14, "30": 30, "90": 90}
# Filings whose review clock runs: a due date passed while in one of these is overdue.
AWAITING_REVIEW = (Submission.Status.SUBMITTED, Submission.Status.UNDER_REVIEW)


def with_tier_rank(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """Annotate the current tier's rank (low 0 … critical 3; -1 when not assessed) to sort on."""
    return queryset.annotate(
        tier_rank=Case(
            *(When(current_tier=tier, then=Value(rank)) for rank, tier in enumerate(TIER_ORDER)),
            default=Value(-1),
            output_field=IntegerField(),
        ),
    )


def overdue(now: datetime) -> Q:
    """Filings whose review is past its due date."""
    return Q(status__in=AWAITING_REVIEW, review_due_at__lt=now)


def lab_filings(*, user: AnyUser) -> QuerySet[Submission]:
    """A lab's filings, newest first, with their current tier (one query whatever the count)."""
    ensure(is_lab_staff(user), "Filings are made by lab staff; regulators work the review queue.")
    return submissions_visible_to(user).order_by("-updated_at", "-id")


@dataclass(frozen=True)
class QueueFilters:
    tier: str = ""
    status: str = ""
    lab: str = ""  # organization slug
    age: str = ""  # waiting at least this many days since submission (QUEUE_AGES)
    evidence: str = ""  # "insufficient" or "sufficient"
    due: str = ""  # "overdue", or "week": due within seven days
    mine: bool = False
    sort: str = "-submitted"

    @property
    def active(self) -> bool:
        return (
            bool(self.tier or self.status or self.lab or self.age or self.evidence or self.due)
            or self.mine
        )


def review_queue(*, user: AnyUser, filters: QueueFilters | None = None) -> QuerySet[Submission]:
    """Filed (never draft) submissions a regulator works on, filtered and sorted."""
    ensure(is_regulator(user), "Only regulators work the review queue.")
    filters = filters or QueueFilters()
    queryset = with_tier_rank(submissions_visible_to(user))
    now = timezone.now()
    if filters.tier in TIER_ORDER:
        queryset = queryset.filter(current_tier=filters.tier)
    if filters.status in Submission.Status.values:
        queryset = queryset.filter(status=filters.status)
    if filters.lab:
        queryset = queryset.filter(organization__slug=filters.lab)
    if filters.age in QUEUE_AGES:
        cutoff = now - timedelta(days=QUEUE_AGES[filters.age])
        queryset = queryset.filter(submitted_at__lte=cutoff)
    if filters.evidence in ("insufficient", "sufficient"):
        queryset = queryset.filter(current_insufficient=filters.evidence == "insufficient").exclude(
            current_tier=""
        )
    if filters.due == "overdue":
        queryset = queryset.filter(overdue(now))
    elif filters.due == "week":
        queryset = queryset.filter(
            status__in=AWAITING_REVIEW, review_due_at__lte=now + timedelta(days=7)
        )
    if filters.mine:
        queryset = queryset.filter(assigned_to_id=user.pk)
    return queryset.order_by(*QUEUE_SORTS.get(filters.sort, QUEUE_SORTS["-submitted"]))


def queue_labs(*, user: AnyUser) -> QuerySet[Organization]:
    ensure(is_regulator(user), "Only regulators work the review queue.")
    return Organization.objects.filter(kind=Organization.Kind.LAB).order_by("name")


def regulator_reviewers(*, user: AnyUser) -> QuerySet[Membership]:
    """The people of the acting regulator who can be assigned a submission."""
    ensure(is_regulator(user), "Only regulators assign reviewers.")
    membership = require_membership(user)
    return (
        Membership.objects.filter(organization_id=membership.organization_id, user__is_active=True)
        .select_related("user", "organization")
        .order_by("user__username")
    )


def reviewer_by_username(*, user: AnyUser, username: str) -> User:
    """An active person of the acting regulator, by username (ServiceError naming it if none)."""
    for membership in regulator_reviewers(user=user).filter(user__username=username):
        return membership.user
    raise ServiceError(
        f"No active reviewer of your regulator is named {username!r}.",
        details={"field": "reviewer"},
    )


@dataclass
class SubmissionPage:
    """Everything the submission page shows, read in a fixed number of queries."""

    submission: Submission
    working_revision: int  # the newest revision the viewer may read (revision_visible_to)
    facts: Facts | None
    assessment: Assessment | None  # the current one
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


def revision_visible_to(user: AnyUser, submission: Submission) -> int:
    """The newest revision `user` may read: the lab, the one it works on; a regulator, only
    what was submitted (never files attached to an answer not yet sent)."""
    if may_work_on_filing(user, submission):
        return submission.working_revision
    return submission.revision


def submission_page(*, user: AnyUser, reference: str) -> SubmissionPage:
    """The submission and all it carries, if `user` may see it (else Submission.DoesNotExist)."""
    submission = submission_get(user=user, reference=reference)
    revision = revision_visible_to(user, submission)
    facts_rows = {
        row.revision: row
        for row in Facts.objects.filter(
            submission=submission, revision__in={revision, submission.revision}
        )
    }
    facts = facts_rows.get(revision) or facts_rows.get(submission.revision)
    assessment = submission.current_assessment
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
    if submission.is_editable and facts is not None and facts.revision == revision:
        rubric = Rubric.objects.filter(in_force=True).first() or rubric
        if rubric is not None:
            preview = assessment_compute(
                document=facts.document, provenance=facts.provenance, rubric=rubric
            )
    return SubmissionPage(
        rubric=rubric,
        preview=preview,
        submission=submission,
        working_revision=revision,
        facts=facts,
        assessment=assessment,
        overrides=overrides,
        model_cards=list(ModelCard.objects.filter(**uploads).select_related("stored_file")),
        diagnostics=list(DiagnosticUpload.objects.filter(**uploads).select_related("stored_file")),
        evidence=list(Evidence.objects.filter(**uploads).select_related("stored_file")),
        comments=list(Comment.objects.filter(submission=submission).select_related("author")),
        reviews=list(Review.objects.filter(submission=submission).select_related("reviewer")),
        reports=list(
            Report.objects.filter(submission=submission)
            .select_related("pdf")
            .order_by("-version", "variant")
        ),
        events=list(_history(submission, revision)),
    )


def submission_reports(*, user: AnyUser, reference: str) -> tuple[Submission, list[Report]]:
    submission = submission_get(user=user, reference=reference)
    reports = (
        Report.objects.filter(submission=submission)
        .select_related("pdf")
        .order_by("-version", "variant")
    )
    return submission, list(reports)


def report_get(
    *, user: AnyUser, reference: str, version: int, variant: str = Report.Variant.CONFIDENTIAL
) -> Report:
    """A report (one variant of a version) of a submission `user` may see
    (Report.DoesNotExist otherwise). Whoever sees the submission may have either variant."""
    submission = submission_get(user=user, reference=reference)
    return Report.objects.select_related("pdf", "submission").get(
        submission=submission, version=version, variant=variant
    )


def submission_file_get(
    *, user: AnyUser, reference: str, sha256: str
) -> ModelCard | DiagnosticUpload | Evidence:
    """An upload (with its stored file and submission) of a filing `user` may see."""
    submission = submission_get(user=user, reference=reference)
    revision = revision_visible_to(user, submission)
    upload_models: tuple[type[ModelCard] | type[DiagnosticUpload] | type[Evidence], ...] = (
        Evidence,
        ModelCard,
        DiagnosticUpload,
    )
    for upload_model in upload_models:
        upload = (
            upload_model.objects.filter(
                submission=submission, revision__lte=revision, stored_file__sha256=sha256
            )
            .select_related("stored_file")
            .first()
        )
        if upload is not None:
            upload.submission = submission
            return upload
    raise StoredFile.DoesNotExist(f"No file {sha256} in {reference}.")


def organization_members(*, user: AnyUser) -> QuerySet[Membership]:
    """The members of the acting admin's organization."""
    membership = require_membership(user)
    ensure(
        may_manage_members(user, membership.organization),
        f"Only an admin of {membership.organization.name} may manage members.",
    )
    return (
        Membership.objects.filter(organization_id=membership.organization_id)
        # API keys act through principals of their own; they are listed as keys, not people.
        .filter(user__api_key__isnull=True)
        .select_related("user", "organization")
        .order_by("user__username")
    )


@dataclass
class Portfolio:
    """What the portfolio page charts, over every filed submission's current assessment.

    Tier counts are of filings with sufficient evidence; filings whose coverage is below the
    rubric's threshold are counted apart (`insufficient`, with their provisional tiers), so
    a regulator never reads a tier that rests on too little evidence as settled.
    """

    total: int
    tiers: Counter[str]
    insufficient: int
    insufficient_tiers: Counter[str]
    tiers_by_lab: dict[str, Counter[str]]
    tiers_by_month: dict[str, Counter[str]]
    level3_counts: list[tuple[str, str, int]]  # (criterion id, name, submissions at level 3)
    coverage_by_lab: dict[str, float]
    statuses: Counter[str]
    overdue: int
    median_days_to_decision: float | None


def _count_by(queryset: QuerySet[Submission], *fields: str) -> list[dict[str, Any]]:
    return list(queryset.order_by().values(*fields).annotate(count=Count("id")))


def portfolio(*, user: AnyUser) -> Portfolio:
    """Portfolio analytics in a fixed number of aggregate queries over small columns of the
    filed submissions (never an assessment's stored result), whatever their number."""
    ensure(may_view_portfolio(user), "Only a regulator admin sees the portfolio.")
    filed = submissions_visible_to(user)
    assessed = filed.exclude(current_tier="")
    settled = assessed.filter(current_insufficient=False)

    tiers: Counter[str] = Counter()
    insufficient_tiers: Counter[str] = Counter()
    for row in _count_by(assessed, "current_tier", "current_insufficient"):
        bucket = insufficient_tiers if row["current_insufficient"] else tiers
        bucket[row["current_tier"]] += row["count"]
    by_lab: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _count_by(settled, "organization__name", "current_tier"):
        by_lab[row["organization__name"]][row["current_tier"]] += row["count"]
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    monthly = settled.annotate(month=TruncMonth("submitted_at"))
    for row in _count_by(monthly, "month", "current_tier"):
        label = row["month"].strftime("%Y-%m") if row["month"] else "—"
        by_month[label][row["current_tier"]] += row["count"]

    rubric = Rubric.objects.filter(in_force=True).first()
    names = {c["id"]: c["name"] for c in (rubric.content["criteria"] if rubric else [])}
    severe = assessed.aggregate(
        **{
            criterion: Count("id", filter=Q(current_severe__contains=f",{criterion},"))
            for criterion in names
        }
    )
    level3 = sorted(
        ((criterion, names[criterion], n) for criterion, n in severe.items() if n),
        key=lambda item: (-item[2], item[0]),
    )[:10]
    coverage_by_lab = {
        row["organization__name"]: row["coverage"]
        for row in assessed.order_by()
        .values("organization__name")
        .annotate(coverage=Avg("current_coverage"))
        .order_by("organization__name")
    }
    statuses = Counter({row["status"]: row["count"] for row in _count_by(filed, "status")})
    now = timezone.now()
    decided = filed.filter(decided_at__isnull=False, submitted_at__isnull=False)
    return Portfolio(
        total=sum(statuses.values()),
        tiers=tiers,
        insufficient=sum(insufficient_tiers.values()),
        insufficient_tiers=insufficient_tiers,
        tiers_by_lab=dict(sorted(by_lab.items())),
        tiers_by_month=dict(sorted(by_month.items())),
        level3_counts=level3,
        coverage_by_lab=coverage_by_lab,
        statuses=statuses,
        overdue=filed.filter(overdue(now)).count(),
        median_days_to_decision=_median_days(decided),
    )


def _median_days(decided: QuerySet[Submission]) -> float | None:
    """The median time from (last) submission to decision, in days, by two bounded queries."""
    count = decided.count()
    if count == 0:
        return None
    durations = decided.order_by().annotate(
        waited=ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    )
    middle = list(
        durations.order_by("waited").values_list("waited", flat=True)[
            (count - 1) // 2 : count // 2 + 1
        ]
    )
    return sum(delta.total_seconds() for delta in middle) / len(middle) / 86_400


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
    "score": ("current_score", "id"),
    "-score": ("-current_score", "-id"),
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
    "current_tier",
    "current_score",
    "current_coverage",
    "current_insufficient",
    "review_due_at",
    "answer_due_at",
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
    *, user: AnyUser, filters: SubmissionListFilters | None = None
) -> QuerySet[Submission]:
    """What `user` may see, filtered and ordered, with the current tier: one query per page."""
    filters = filters or SubmissionListFilters()
    queryset = submissions_visible_to(user)
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.model:
        queryset = queryset.filter(model__name=filters.model)
    if filters.model_version:
        queryset = queryset.filter(model_version=filters.model_version)
    if filters.tiers:
        queryset = queryset.filter(current_tier__in=filters.tiers)
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


def submission_with_files(*, user: AnyUser, reference: str) -> SubmissionFiles:
    """A visible submission with its current tier and every file of every revision."""
    submission = submissions_visible_to(user).get(reference=reference)
    files = {"submission": submission, "revision__lte": revision_visible_to(user, submission)}
    return SubmissionFiles(
        submission=submission,
        model_cards=list(ModelCard.objects.filter(**files).select_related("stored_file")),
        diagnostics=list(DiagnosticUpload.objects.filter(**files).select_related("stored_file")),
        evidence=list(Evidence.objects.filter(**files).select_related("stored_file")),
    )


def submission_assessments(*, user: AnyUser, reference: str) -> QuerySet[Assessment]:
    """Every stored assessment of a visible submission, newest first, with their overrides."""
    submission = submission_get(user=user, reference=reference)
    return (
        Assessment.objects.filter(submission=submission)
        .select_related("rubric", "rescored_from__rubric")
        .prefetch_related("overrides__author")
        .order_by("-created_at", "-id")
    )


def submission_comments(*, user: AnyUser, reference: str) -> QuerySet[Comment]:
    submission = submission_get(user=user, reference=reference)
    return Comment.objects.filter(submission=submission).select_related("author")


def rubrics_published(*, user: AnyUser) -> QuerySet[Rubric]:
    """Every stored rubric version: labs and regulators alike read the method they are held to."""
    require_membership(user)
    return Rubric.objects.order_by("urn", "-loaded_at")


def api_keys_of_organization(*, user: AnyUser) -> QuerySet[OrganizationAPIKey]:
    """The acting lab admin's organization's keys (revoked ones included), newest first."""
    membership = require_membership(user)
    ensure(
        may_manage_api_keys(user, membership.organization),
        f"Only an admin of {membership.organization.name} manages its API keys.",
    )
    return (
        OrganizationAPIKey.objects.filter(organization_id=membership.organization_id)
        .select_related("organization", "created_by")
        .order_by("-created")
    )


def api_key_get(*, user: AnyUser, prefix: str) -> OrganizationAPIKey:
    """A key of the acting user's organization (DoesNotExist for anyone else's), for its admin."""
    membership = require_membership(user)
    api_key = OrganizationAPIKey.objects.select_related("organization", "created_by").get(
        organization_id=membership.organization_id, prefix=prefix
    )
    ensure(
        may_manage_api_keys(user, membership.organization),
        f"Only an admin of {membership.organization.name} manages its API keys.",
    )
    return api_key


@dataclass
class Preview:
    """The assessment the working facts would get with a filing-form document added."""

    result: dict[str, Any] | None
    errors: list[IntakeError]
    document: dict[str, Any]
    provenance: dict[str, Any]


def assessment_preview(
    *, user: AnyUser, reference: str, document: dict[str, Any] | None = None
) -> Preview:
    """Merge `document` (as a native filing, if any) with the filing's working inputs and
    assess the result under the rubric in force, without storing anything."""
    submission = submission_get(user=user, reference=reference)
    ensure(
        may_work_on_filing(user, submission),
        f"Only members of {submission.organization.name} may preview its filing.",
    )
    try:
        extra = (
            intake.import_file(
                "filing form",
                json.dumps(document, sort_keys=True, allow_nan=False).encode(),
                aliases=aliases_in_force(),
                max_bytes=settings.GOVPORTAL_MAX_UPLOAD_BYTES,
            )
            if document
            else None
        )
        merged = facts_merge(submission, submission.working_revision, extra=extra)
    except IntakeErrors as invalid:
        return Preview(None, list(invalid.errors), {}, {})
    except IntakeError as invalid:
        return Preview(None, [invalid], {}, {})
    result = assessment_compute(
        document=merged.document, provenance=merged.provenance, rubric=rubric_in_force()
    )
    return Preview(result, [], merged.document, merged.provenance)
