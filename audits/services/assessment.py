"""Running the rubric over a revision's facts, storing the result, and re-scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from audits import rubric as engine
from audits.models import Assessment, Facts, Rubric, Submission
from audits.services.audit_log import audit_event_record
from audits.services.intake import facts_build
from audits.services.overrides import overrides_carry_forward
from audits.services.rubrics import rubric_engine_form, rubric_in_force


def assessment_compute(*, facts: Facts, rubric: Rubric) -> dict[str, Any]:
    """The engine's result for these facts under this rubric, as stored (no writes)."""
    result = engine.assess(rubric_engine_form(rubric), facts.document, facts.provenance)
    return result.to_dict()


@transaction.atomic
def assessment_run(
    *,
    submission: Submission,
    revision: int | None = None,
    rubric: Rubric | None = None,
    acting_user: Any | None = None,
) -> Assessment:
    """Build the revision's facts, assess them under `rubric` (default: the one in force), store."""
    revision = revision or submission.revision
    rubric = rubric or rubric_in_force()
    facts = facts_build(submission=submission, revision=revision)
    result = assessment_compute(facts=facts, rubric=rubric)
    previous = submission.current_assessment
    assessment = _store(submission, revision, rubric, result)
    if previous is not None:
        overrides_carry_forward(source=previous, target=assessment)
    audit_event_record(
        actor=acting_user,
        action="assessment.run",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={
            "revision": revision,
            "rubric": f"{rubric.urn}@{rubric.version}",
            "facts_sha256": facts.sha256,
            "overall_score": result["overall_score"],
            "tier": result["tier"],
        },
    )
    return assessment


def _store(
    submission: Submission,
    revision: int,
    rubric: Rubric,
    result: dict[str, Any],
    *,
    rescored_from: Assessment | None = None,
    diff: dict[str, Any] | None = None,
) -> Assessment:
    assessment = Assessment.objects.create(
        submission=submission,
        revision=revision,
        rubric=rubric,
        facts_sha256=result["facts_sha256"],
        overall_score=result["overall_score"],
        tier=result["tier"],
        coverage=result["coverage"],
        insufficient_evidence=result["insufficient_evidence"],
        result=result,
        engine_version=result.get("engine_version", engine.ENGINE_VERSION),
        rescored_from=rescored_from,
        diff=diff,
    )
    if revision == submission.revision:
        submission.current_assessment = assessment
        submission.save(update_fields=["current_assessment"])
    return assessment


def assessment_latest(submission: Submission, revision: int | None = None) -> Assessment | None:
    """The newest assessment of a revision (the current one by default)."""
    return (
        Assessment.objects.filter(submission=submission, revision=revision or submission.revision)
        .select_related("rubric")
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class Rescore:
    submission: Submission
    previous: Assessment
    assessment: Assessment

    @property
    def diff(self) -> dict[str, Any]:
        return self.assessment.diff or {}


@transaction.atomic
def assessments_rescore(*, rubric: Rubric, acting_user: Any | None = None) -> list[Rescore]:
    """Re-assess every filed submission's current revision under `rubric`, keeping the diff.

    Submissions already assessed under this rubric version for their current facts are
    skipped, so running it twice adds nothing.
    """
    rescores = []
    submissions = Submission.objects.exclude(status=Submission.Status.DRAFT).select_related(
        "organization"
    )
    for submission in submissions.order_by("reference"):
        previous = assessment_latest(submission)
        if previous is None or previous.rubric_id == rubric.pk:
            continue
        facts = Facts.objects.get(submission=submission, revision=submission.revision)
        result = assessment_compute(facts=facts, rubric=rubric)
        diff = engine.diff_assessments(previous.result, result)
        assessment = _store(
            submission, submission.revision, rubric, result, rescored_from=previous, diff=diff
        )
        audit_event_record(
            actor=acting_user,
            action="assessment.rescore",
            object_type="submission",
            object_id=submission.reference,
            organization=submission.organization,
            payload={"rubric": f"{rubric.urn}@{rubric.version}", "tier": result["tier"]},
        )
        rescores.append(Rescore(submission=submission, previous=previous, assessment=assessment))
    return rescores
