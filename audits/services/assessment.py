"""Running the rubric over a revision's facts, storing the result, and re-scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from audits import rubric as engine
from audits.models import Assessment, Facts, Rubric, Submission
from audits.selectors import assessment_compute, rubric_in_force
from audits.services.audit_log import submission_event_record
from audits.services.intake import facts_build
from audits.services.overrides import overrides_carry_forward

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def assessment_run(
    *,
    submission: Submission,
    facts: Facts | None = None,
    rubric: Rubric | None = None,
    acting_user: User | None = None,
) -> Assessment:
    """Assess a revision's facts (the current revision's, built now, unless given) under
    `rubric` (default: the one in force), store the result and carry the overrides over."""
    facts = facts or facts_build(submission=submission, revision=submission.revision)
    rubric = rubric or rubric_in_force()
    result = assessment_compute(document=facts.document, provenance=facts.provenance, rubric=rubric)
    previous = submission.current_assessment
    assessment = _store(submission, facts.revision, rubric, result)
    if previous is not None:
        overrides_carry_forward(source=previous, target=assessment)
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action="assessment.run",
        payload={
            "revision": facts.revision,
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
        submission_current_set(submission, assessment)
    return assessment


def submission_current_set(submission: Submission, assessment: Assessment) -> None:
    """Make `assessment` the submission's current one, with the figures lists show."""
    severe = [c["id"] for c in assessment.result["criteria"] if c["level"] >= 3]
    submission.current_assessment = assessment
    submission.current_tier = assessment.tier
    submission.current_score = assessment.overall_score
    submission.current_coverage = assessment.coverage
    submission.current_insufficient = assessment.insufficient_evidence
    submission.current_severe = f",{','.join(severe)}," if severe else ""
    submission.save(update_fields=CURRENT_FIELDS)


CURRENT_FIELDS = [
    "current_assessment",
    "current_tier",
    "current_score",
    "current_coverage",
    "current_insufficient",
    "current_severe",
]


@dataclass(frozen=True)
class Rescore:
    submission: Submission
    previous: Assessment
    assessment: Assessment

    @property
    def diff(self) -> dict[str, Any]:
        return self.assessment.diff or {}


@transaction.atomic
def assessments_rescore(*, rubric: Rubric, acting_user: User | None = None) -> list[Rescore]:
    """Re-assess every filed submission's current revision under `rubric`, keeping the diff.

    Submissions already assessed under this rubric version for their current facts are
    skipped, so running it twice adds nothing.
    """
    rescores = []
    submissions = Submission.objects.exclude(status=Submission.Status.DRAFT).select_related(
        "organization", "current_assessment"
    )
    for submission in submissions.order_by("reference"):
        previous = submission.current_assessment
        if previous is None or previous.rubric_id == rubric.pk:
            continue
        facts = Facts.objects.get(submission=submission, revision=submission.revision)
        result = assessment_compute(
            document=facts.document, provenance=facts.provenance, rubric=rubric
        )
        diff = engine.diff_assessments(previous.result, result)
        assessment = _store(
            submission, submission.revision, rubric, result, rescored_from=previous, diff=diff
        )
        submission_event_record(
            submission=submission,
            acting_user=acting_user,
            action="assessment.rescore",
            payload={"rubric": f"{rubric.urn}@{rubric.version}", "tier": result["tier"]},
        )
        rescores.append(Rescore(submission=submission, previous=previous, assessment=assessment))
    return rescores
