"""The submission lifecycle: every status change of a filing goes through here.

    draft → submitted → under_review → changes_requested → submitted (revision + 1) → …
                                    ↘ accepted | rejected

Each transition names who may make it; the service checks the acting user's role itself,
so no view or API endpoint can bypass the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.errors import ServiceError, TransitionRefused
from audits.models import (
    AIModel,
    Override,
    ReferenceCounter,
    Report,
    Review,
    Submission,
    SubmissionRevision,
)
from audits.roles import (
    ensure,
    may_assign,
    may_decide,
    may_file,
    may_start_review,
    may_work_on_filing,
    require_membership,
)
from audits.services.assessment import assessment_run
from audits.services.audit_log import submission_event_record
from audits.services.intake import facts_build
from audits.services.locks import submission_lock
from audits.services.reports import report_request

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Submission.Status
# A filing names its model and who made it before it can be submitted.
REQUIRED_IDENTITY = ("model.name", "model.version", "model.developer")
# What a submitter declares, word for word, by ticking the box (or sending the API's flag).
ACCURACY_DECLARATION = (
    "I declare that the facts, diagnostics and evidence in this filing are accurate and "
    "complete to the best of my knowledge, and that nothing known to me that is material "
    "to the assessment of the model has been withheld."
)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str
    who: str  # as users read it, for error messages


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.DRAFT, Status.SUBMITTED, "submit", "a member of the filing lab"),
    Transition(Status.CHANGES_REQUESTED, Status.SUBMITTED, "submit", "a member of the filing lab"),
    Transition(Status.SUBMITTED, Status.UNDER_REVIEW, "start_review", "a regulator"),
    Transition(
        Status.UNDER_REVIEW,
        Status.CHANGES_REQUESTED,
        "request_changes",
        "the assigned reviewer or a regulator admin",
    ),
    Transition(
        Status.UNDER_REVIEW, Status.ACCEPTED, "accept", "the assigned reviewer or a regulator admin"
    ),
    Transition(
        Status.UNDER_REVIEW, Status.REJECTED, "reject", "the assigned reviewer or a regulator admin"
    ),
)


def allowed_next_statuses(status: str) -> list[str]:
    return [t.target for t in TRANSITIONS if t.source == status]


def _transition_for(submission: Submission, target: str) -> Transition:
    for transition in TRANSITIONS:
        if transition.source == submission.status and transition.target == target:
            return transition
    allowed = allowed_next_statuses(submission.status)
    allowed_text = ", ".join(allowed) if allowed else "nothing (it is final)"
    raise TransitionRefused(
        f"Submission {submission.reference} is {submission.status}; it cannot move to {target}. "
        f"From {submission.status} it can move to: {allowed_text}.",
        details={"current": submission.status, "requested": target, "allowed": allowed},
    )


def _record(
    submission: Submission, acting_user: User, action: str, payload: dict[str, Any] | None = None
) -> None:
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action=f"submission.{action}",
        payload={"status": submission.status, "revision": submission.revision, **(payload or {})},
    )


def _ensure_lab_member(acting_user: User, submission: Submission) -> None:
    ensure(
        may_work_on_filing(acting_user, submission),
        f"Only members of {submission.organization.name} may do this.",
    )


def working_days_after(moment: datetime, days: int) -> datetime:
    """The end (23:59:59 UTC) of the day `days` working days (Monday to Friday) after `moment`."""
    day = moment.astimezone(UTC).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def review_due(tier: str, submitted_at: datetime) -> datetime:
    """When the review of a filing submitted at `submitted_at` with `tier` is due."""
    levels = settings.GOVPORTAL_REVIEW_SLA_DAYS
    return working_days_after(submitted_at, levels.get(tier, levels["default"]))


def submission_reference_issue(*, year: int) -> str:
    """The next reference of the year, TA-YYYY-NNNNNN, taken under a row lock."""
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last_number += 1
    if counter.last_number > 999_999:
        raise ServiceError(f"The reference space for {year} is exhausted.")
    counter.save(update_fields=["last_number"])
    return f"TA-{year:04d}-{counter.last_number:06d}"


@transaction.atomic
def submission_create(*, acting_user: User, model_name: str, model_version: str) -> Submission:
    """Open a draft filing for one version of one of the lab's models."""
    ensure(may_file(acting_user), "Filings are opened by lab staff.")
    organization = require_membership(acting_user).organization
    model_name = model_name.strip()
    model_version = model_version.strip()
    if not model_name or not model_version:
        raise ServiceError("A filing needs the model's name and version.")
    ai_model, _ = AIModel.objects.get_or_create(organization=organization, name=model_name)
    submission = Submission.objects.create(
        organization=organization,
        model=ai_model,
        model_version=model_version,
        reference=submission_reference_issue(year=timezone.now().year),
        created_by=acting_user,
    )
    _record(
        submission, acting_user, "create", {"model": model_name, "model_version": model_version}
    )
    return submission


@transaction.atomic(durable=True)
def submission_submit(
    *, submission: Submission, acting_user: User, accuracy_declared: bool
) -> Submission:
    """Submit a draft, or resubmit after a change request as the next revision.

    The submitter declares the filing accurate (ACCURACY_DECLARATION); the words are kept
    with the revision, in the audit log and in the report.
    """
    submission = submission_lock(submission)
    _ensure_lab_member(acting_user, submission)
    transition = _transition_for(submission, Status.SUBMITTED)
    if not accuracy_declared:
        raise ServiceError(
            "Tick the accuracy declaration to submit: " + ACCURACY_DECLARATION,
            details={"field": "accuracy_declaration"},
        )
    now = timezone.now()
    if transition.source == Status.CHANGES_REQUESTED:
        submission.revision += 1
    submission.status = Status.SUBMITTED
    submission.submitted_at = now
    submission.submitted_by = acting_user
    submission.assigned_to = None if transition.source == Status.DRAFT else submission.assigned_to
    submission.save(
        update_fields=[
            "status",
            "revision",
            "submitted_at",
            "submitted_by",
            "assigned_to",
            "updated_at",
        ]
    )
    facts = facts_build(submission=submission, revision=submission.revision)
    missing_identity = [path for path in REQUIRED_IDENTITY if path in facts.missing]
    if missing_identity:
        raise ServiceError(
            f"Submission {submission.reference} cannot be submitted yet: no input supplies "
            f"{', '.join(missing_identity)}. Add them in a filing document or the filing form.",
            details={"missing": missing_identity},
        )
    SubmissionRevision.objects.create(
        submission=submission,
        number=submission.revision,
        submitted_at=now,
        submitted_by=acting_user,
        facts_sha256=facts.sha256,
        declaration=ACCURACY_DECLARATION,
    )
    assessment = assessment_run(submission=submission, facts=facts, acting_user=acting_user)
    submission.review_due_at = review_due(assessment.tier, now)
    submission.answer_due_at = None
    submission.save(update_fields=["review_due_at", "answer_due_at"])
    report_request(submission=submission, kind=Report.Kind.PROVISIONAL, acting_user=acting_user)
    _record(
        submission,
        acting_user,
        "submit",
        {
            "declaration": ACCURACY_DECLARATION,
            "review_due_at": submission.review_due_at.isoformat(),
        },
    )
    return submission


@transaction.atomic(durable=True)
def submission_start_review(*, submission: Submission, acting_user: User) -> Submission:
    """A regulator takes a submitted filing into review; it is assigned to them if unassigned."""
    submission = submission_lock(submission)
    ensure(may_start_review(acting_user), "Only regulators may start a review.")
    _transition_for(submission, Status.UNDER_REVIEW)
    submission.status = Status.UNDER_REVIEW
    assignee = submission.assigned_to or acting_user
    submission.assigned_to = assignee
    submission.save(update_fields=["status", "assigned_to", "updated_at"])
    _record(submission, acting_user, "start_review", {"assigned_to": assignee.get_username()})
    return submission


@transaction.atomic(durable=True)
def submission_assign(*, submission: Submission, acting_user: User, reviewer: User) -> Submission:
    """Assign a reviewer. A regulator admin assigns and reassigns anyone of their regulator;
    a reviewer may take an unassigned filing for themself, never one someone else holds."""
    submission = submission_lock(submission)
    ensure(
        may_assign(acting_user, submission, reviewer),
        "Only a regulator admin may assign a filing to someone else or take it from its "
        "reviewer; a reviewer may take only an unassigned filing.",
    )
    if submission.status in (Status.DRAFT, Status.ACCEPTED, Status.REJECTED):
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; it cannot be assigned."
        )
    previous = submission.assigned_to
    if previous is not None and previous.pk == reviewer.pk:
        return submission
    submission.assigned_to = reviewer
    submission.save(update_fields=["assigned_to", "updated_at"])
    _record(
        submission,
        acting_user,
        "assign",
        {
            "assigned_to": reviewer.get_username(),
            "previously_assigned_to": previous.get_username() if previous else None,
        },
    )
    return submission


def _decide(
    submission: Submission,
    acting_user: User,
    target: str,
    decision: str,
    rationale: str,
    *,
    answer_by: date | None = None,
    conditions: list[str] | None = None,
) -> Submission:
    submission = submission_lock(submission)
    ensure(
        may_decide(acting_user, submission),
        f"Only the reviewer assigned to {submission.reference} or a regulator admin may "
        "decide on it.",
    )
    _transition_for(submission, target)
    rationale = rationale.strip()
    if not rationale:
        raise ServiceError("A decision needs a rationale.", details={"field": "rationale"})
    waiting = list(
        Override.objects.filter(
            assessment=submission.current_assessment, status=Override.Status.PENDING
        ).values_list("criterion", flat=True)
    )
    if waiting:
        raise ServiceError(
            f"Overrides carried from an earlier revision wait for confirmation: "
            f"{', '.join(waiting)}. Confirm or drop each before deciding.",
            details={"pending_overrides": waiting},
        )
    answer_due_at = None
    if answer_by is not None:
        if answer_by <= timezone.now().date():
            raise ServiceError(
                "The date by which the lab must answer is in the future.",
                details={"field": "answer_by"},
            )
        answer_due_at = datetime.combine(answer_by, time(23, 59, 59), tzinfo=UTC)
    # An acceptance may carry conditions or outstanding items; the final report lists them.
    conditions = [text.strip() for text in conditions or [] if text.strip()]
    submission.status = target
    submission.answer_due_at = answer_due_at
    if target in (Status.ACCEPTED, Status.REJECTED):
        submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "decided_at", "answer_due_at", "updated_at"])
    review = Review.objects.create(
        submission=submission,
        revision=submission.revision,
        reviewer=acting_user,
        decision=decision,
        rationale=rationale,
        answer_due_at=answer_due_at,
        conditions=conditions,
    )
    _record(
        submission,
        acting_user,
        decision,
        {
            "review_id": review.pk,
            "rationale": rationale,
            "answer_due_at": answer_due_at.isoformat() if answer_due_at else None,
            "conditions": conditions,
        },
    )
    # A decision is documented: final on accept or reject, provisional on a change request.
    final = target in (Status.ACCEPTED, Status.REJECTED)
    kind = Report.Kind.FINAL if final else Report.Kind.PROVISIONAL
    report_request(submission=submission, kind=kind, acting_user=acting_user)
    return submission


@transaction.atomic(durable=True)
def submission_request_changes(
    *, submission: Submission, acting_user: User, rationale: str, answer_by: date | None = None
) -> Submission:
    """Send the filing back to the lab, optionally with the date it must answer by."""
    return _decide(
        submission,
        acting_user,
        Status.CHANGES_REQUESTED,
        Review.Decision.REQUEST_CHANGES,
        rationale,
        answer_by=answer_by,
    )


@transaction.atomic(durable=True)
def submission_accept(
    *,
    submission: Submission,
    acting_user: User,
    rationale: str,
    conditions: list[str] | None = None,
) -> Submission:
    return _decide(
        submission,
        acting_user,
        Status.ACCEPTED,
        Review.Decision.ACCEPT,
        rationale,
        conditions=conditions,
    )


@transaction.atomic(durable=True)
def submission_reject(*, submission: Submission, acting_user: User, rationale: str) -> Submission:
    return _decide(submission, acting_user, Status.REJECTED, Review.Decision.REJECT, rationale)
