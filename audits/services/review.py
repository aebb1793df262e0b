"""What reviewers add to a filing: comments (on the filing or one criterion) and overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from audits.errors import ServiceError, TransitionRefused
from audits.models import Assessment, Comment, Override, Submission
from audits.roles import ensure, may_comment, may_decide
from audits.services.audit_log import submission_event_record
from audits.services.locks import submission_lock

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _criterion(assessment: Assessment, criterion_id: str) -> dict[str, Any]:
    for criterion in assessment.result["criteria"]:
        if criterion["id"] == criterion_id:
            return criterion
    known = ", ".join(c["id"] for c in assessment.result["criteria"])
    raise ServiceError(
        f"No criterion {criterion_id!r} in {assessment.rubric}; known: {known}.",
        details={"field": "criterion"},
    )


@transaction.atomic(durable=True)
def comment_add(
    *, submission: Submission, acting_user: User, body: str, criterion: str = ""
) -> Comment:
    """A comment by a regulator, or by the filing lab's members, optionally on one criterion."""
    ensure(
        may_comment(acting_user, submission),
        "Only the filing lab, and regulators once it is filed (never on drafts), may comment "
        "on this filing.",
    )
    body = body.strip()
    if not body:
        raise ServiceError("A comment needs a body.", details={"field": "body"})
    criterion = criterion.strip()
    if criterion:
        if submission.current_assessment is None:
            raise ServiceError("This filing has no assessment yet to comment a criterion of.")
        _criterion(submission.current_assessment, criterion)
    comment = Comment.objects.create(
        submission=submission,
        revision=submission.revision,
        criterion=criterion,
        author=acting_user,
        body=body,
    )
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action="comment.add",
        payload={"comment_id": comment.pk, "criterion": criterion},
    )
    return comment


def _ensure_reviewing(acting_user: User, submission: Submission, what: str) -> None:
    ensure(
        may_decide(acting_user, submission),
        f"Only the reviewer assigned to {submission.reference} or a regulator admin may {what}.",
    )
    if submission.status != Submission.Status.UNDER_REVIEW:
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; {what} is possible "
            "only while it is under review."
        )


@transaction.atomic(durable=True)
def criterion_override(
    *, submission: Submission, acting_user: User, criterion: str, level: int, reason: str
) -> Override:
    """Set a regulator's level for one criterion of the current assessment, with a reason.

    The automated level stays on record beside it; a second override of the same criterion
    replaces the first (both are in the audit log).
    """
    submission = submission_lock(submission)
    _ensure_reviewing(acting_user, submission, "override its criteria")
    reason = reason.strip()
    if not reason:
        raise ServiceError(
            "An override needs a written justification.", details={"field": "reason"}
        )
    assessment = submission.current_assessment
    if assessment is None:
        raise ServiceError(f"Submission {submission.reference} has no assessment to override.")
    automated = _criterion(assessment, criterion)
    if not 0 <= level <= automated["max_level"]:
        raise ServiceError(
            f"Level {level} is outside 0–{automated['max_level']} for {criterion}.",
            details={"field": "level"},
        )
    override, _ = Override.objects.update_or_create(
        assessment=assessment,
        criterion=criterion,
        defaults={
            "automated_level": automated["level"],
            "level": level,
            "reason": reason,
            "author": acting_user,
            "status": Override.Status.APPLIED,
            "origin_revision": assessment.revision,
            "carried_from": None,
            "status_note": "",
        },
    )
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action="assessment.override",
        payload={
            "criterion": criterion,
            "automated_level": automated["level"],
            "level": level,
            "reason": reason,
        },
    )
    return override


def _standing_override(submission: Submission, acting_user: User, criterion: str) -> Override:
    _ensure_reviewing(acting_user, submission, "confirm or drop its overrides")
    override = (
        Override.objects.filter(assessment=submission.current_assessment, criterion=criterion)
        .exclude(status=Override.Status.DROPPED)
        .first()
    )
    if override is None:
        raise ServiceError(
            f"{criterion} of {submission.reference} has no override to confirm or drop.",
            details={"field": "criterion"},
        )
    return override


@transaction.atomic(durable=True)
def override_confirm(
    *, submission: Submission, acting_user: User, criterion: str, reason: str = ""
) -> Override:
    """A reviewer keeps a carried override that waits for confirmation (optionally re-worded)."""
    submission = submission_lock(submission)
    override = _standing_override(submission, acting_user, criterion)
    if override.status != Override.Status.PENDING:
        raise ServiceError(f"The override of {criterion} is already applied.")
    override.status = Override.Status.APPLIED
    override.reason = reason.strip() or override.reason
    override.save(update_fields=["status", "reason"])
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action="assessment.override_confirm",
        payload={"criterion": criterion, "level": override.level, "reason": override.reason},
    )
    return override


@transaction.atomic(durable=True)
def override_drop(
    *, submission: Submission, acting_user: User, criterion: str, reason: str
) -> Override:
    """A reviewer withdraws an override: the automated level stands again. Kept on record."""
    submission = submission_lock(submission)
    override = _standing_override(submission, acting_user, criterion)
    reason = reason.strip()
    if not reason:
        raise ServiceError("Say why the override is dropped.", details={"field": "reason"})
    override.status = Override.Status.DROPPED
    override.status_note = reason
    override.save(update_fields=["status", "status_note"])
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action="assessment.override_drop",
        payload={"criterion": criterion, "level": override.level, "reason": reason},
    )
    return override
