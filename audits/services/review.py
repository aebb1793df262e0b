"""What reviewers add to a filing: comments (on the filing or one criterion) and overrides."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audits import rubric as engine
from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.models import Assessment, Comment, Facts, Override, Submission
from audits.roles import require_assigned_reviewer, require_membership
from audits.services.assessment import assessment_latest
from audits.services.audit_log import audit_event_record, submission_event_record
from audits.services.rubrics import rubric_engine_form


def _criterion(assessment: Assessment, criterion_id: str) -> dict[str, Any]:
    for criterion in assessment.result["criteria"]:
        if criterion["id"] == criterion_id:
            return criterion
    known = ", ".join(c["id"] for c in assessment.result["criteria"])
    raise ServiceError(
        f"No criterion {criterion_id!r} in {assessment.rubric}; known: {known}.",
        details={"field": "criterion"},
    )


@transaction.atomic
def comment_add(
    *, submission: Submission, acting_user: Any, body: str, criterion: str = ""
) -> Comment:
    """A comment by a regulator, or by the filing lab's members, optionally on one criterion."""
    membership = require_membership(acting_user)
    if membership.organization.is_lab:
        if membership.organization_id != submission.organization_id:
            raise NotPermitted("Only the filing lab and regulators may comment on this filing.")
    elif submission.status == Submission.Status.DRAFT:
        raise NotPermitted("Regulators cannot see or comment on drafts.")
    body = body.strip()
    if not body:
        raise ServiceError("A comment needs a body.", details={"field": "body"})
    criterion = criterion.strip()
    if criterion:
        assessment = assessment_latest(submission)
        if assessment is None:
            raise ServiceError("This filing has no assessment yet to comment a criterion of.")
        _criterion(assessment, criterion)
    comment = Comment.objects.create(
        submission=submission,
        revision=submission.revision,
        criterion=criterion,
        author=acting_user,
        body=body,
    )
    audit_event_record(
        actor=acting_user,
        action="comment.add",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={"comment_id": comment.pk, "criterion": criterion},
    )
    return comment


@transaction.atomic
def criterion_override(
    *, submission: Submission, acting_user: Any, criterion: str, level: int, reason: str
) -> Override:
    """Set a regulator's level for one criterion of the current assessment, with a reason.

    The automated level stays on record beside it; a second override of the same criterion
    replaces the first (both are in the audit log).
    """
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    require_assigned_reviewer(acting_user, submission, to="override its criteria")
    if submission.status != Submission.Status.UNDER_REVIEW:
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; criteria can be "
            "overridden only while it is under review."
        )
    reason = reason.strip()
    if not reason:
        raise ServiceError(
            "An override needs a written justification.", details={"field": "reason"}
        )
    assessment = assessment_latest(submission)
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
    audit_event_record(
        actor=acting_user,
        action="assessment.override",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={
            "criterion": criterion,
            "automated_level": automated["level"],
            "level": level,
            "reason": reason,
        },
    )
    return override


def _reviewable_override(submission: Submission, acting_user: Any, criterion: str) -> Override:
    require_assigned_reviewer(acting_user, submission, to="confirm or drop its overrides")
    if submission.status != Submission.Status.UNDER_REVIEW:
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; overrides are confirmed "
            "or dropped while it is under review."
        )
    override = (
        Override.objects.select_related("assessment")
        .filter(assessment=submission.current_assessment, criterion=criterion)
        .exclude(status=Override.Status.DROPPED)
        .first()
    )
    if override is None:
        raise ServiceError(
            f"{criterion} of {submission.reference} has no override to confirm or drop.",
            details={"field": "criterion"},
        )
    return override


@transaction.atomic
def override_confirm(
    *, submission: Submission, acting_user: Any, criterion: str, reason: str = ""
) -> Override:
    """A reviewer keeps a carried override that waits for confirmation (optionally re-worded)."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    override = _reviewable_override(submission, acting_user, criterion)
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


@transaction.atomic
def override_drop(
    *, submission: Submission, acting_user: Any, criterion: str, reason: str
) -> Override:
    """A reviewer withdraws an override: the automated level stands again. Kept on record."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    override = _reviewable_override(submission, acting_user, criterion)
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


def assessment_reviewed(assessment: Assessment) -> dict[str, Any]:
    """The assessment's result with the regulators' overrides applied (no writes).

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
        rubric_engine_form(assessment.rubric), assessment.result, levels, facts=facts.document
    )
