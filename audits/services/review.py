"""What reviewers add to a filing: comments (on the filing or one criterion) and overrides."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audits import rubric as engine
from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.models import Assessment, Comment, Facts, Override, Submission
from audits.roles import require_assigned_reviewer, require_membership
from audits.services.assessment import assessment_latest
from audits.services.audit_log import audit_event_record
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


def assessment_reviewed(assessment: Assessment) -> dict[str, Any]:
    """The assessment's result with the regulators' overrides applied (no writes).

    Scores, tier and gates are recomputed from the overridden levels; each overridden
    criterion keeps its automated level beside the override. Without overrides, the stored
    result as it is.
    """
    levels = {override.criterion: override.level for override in assessment.overrides.all()}
    if not levels:
        return assessment.result
    facts = Facts.objects.get(submission_id=assessment.submission_id, revision=assessment.revision)
    return engine.apply_overrides(
        rubric_engine_form(assessment.rubric), assessment.result, levels, facts=facts.document
    )
