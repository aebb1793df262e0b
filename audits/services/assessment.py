"""Running the rubric over a revision's facts, storing the result, and re-scoring."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, F
from django.utils import timezone

from audits import rubric as engine
from audits.errors import ServiceError
from audits.models import (
    Assessment,
    Facts,
    RescoreOutcome,
    Rubric,
    RubricPublication,
    Submission,
)
from audits.roles import ensure, may_publish_rubric
from audits.selectors import assessment_compute, rubric_in_force
from audits.services.audit_log import audit_event_record, submission_event_record
from audits.services.intake import facts_build
from audits.services.outbox import outbox_enqueue
from audits.services.overrides import overrides_carry_forward

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


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


# --- re-scoring under another rubric version ----------------------------------------------
#
# One function re-scores one filing in one transaction; a chunk reads its filings' current
# assessments and facts in two queries and calls it for each. Publishing a rubric runs the
# chunks as Celery tasks (audits/services/rubrics.py); `manage.py rescore` runs them here.

RESCORE_CHUNK_TASK = "audits.rubric_rescore_chunk"
# Errors that say nothing about the filing (the database went away): the chunk is retried.
RESCORE_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Rescore:
    """One filing's outcome: re-scored (with its new assessment), skipped, or failed."""

    submission: Submission
    status: str
    previous: Assessment | None = None
    assessment: Assessment | None = None
    error: str = ""

    @property
    def diff(self) -> dict[str, Any]:
        return (self.assessment.diff if self.assessment else None) or {}


def batched(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    """`ids` in lists of `size` (the last one shorter)."""
    while chunk := list(islice(ids, size)):
        yield chunk


def rescore_candidates() -> list[int]:
    """The ids of every filed submission that has an assessment to re-score, in order."""
    return list(
        Submission.objects.exclude(status=Submission.Status.DRAFT)
        .filter(current_assessment__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _chunk_read(submission_ids: Sequence[int]) -> list[tuple[Submission, Facts | None]]:
    # Two queries for the whole chunk: the filings with their current assessment, and the
    # facts of each filing's current revision. (Not the rubric row: its content is large
    # and the assessment's result names its rubric.)
    submissions = list(
        Submission.objects.filter(pk__in=submission_ids)
        .exclude(status=Submission.Status.DRAFT)
        .filter(current_assessment__isnull=False)
        .select_related("organization", "current_assessment")
        .order_by("pk")
    )
    facts = {
        row.submission_id: row
        for row in Facts.objects.filter(
            submission_id__in=[submission.pk for submission in submissions],
            revision=F("submission__revision"),
        ).only("submission_id", "revision", "document", "provenance", "sha256")
    }
    return [(submission, facts.get(submission.pk)) for submission in submissions]


def assessment_rescore(
    *,
    submission: Submission,
    facts: Facts | None,
    rubric: Rubric,
    acting_user: Any | None = None,
    publication: RubricPublication | None = None,
) -> Rescore:
    """Re-assess one filing's current revision under `rubric`, in one transaction.

    `submission` comes with its current assessment and `facts` with that revision's facts,
    as a chunk read them; if the filing moved on since (a new revision, a new assessment),
    they are read again under the row lock. A filing already assessed under `rubric` for
    its current facts is skipped. The new assessment keeps its diff from the previous one,
    the previous one's overrides are carried to it, and an audit event records it; under
    a publication, the filing's outcome is recorded too.
    """
    with transaction.atomic():
        locked = (
            Submission.objects.select_for_update()
            .filter(pk=submission.pk)
            .values_list("revision", "current_assessment_id")
            .get()
        )
        previous = submission.current_assessment
        if previous is None or locked != (submission.revision, previous.pk) or facts is None:
            submission = Submission.objects.select_related(
                "organization", "current_assessment"
            ).get(pk=submission.pk)
            previous = submission.current_assessment
            facts = Facts.objects.filter(
                submission=submission, revision=submission.revision
            ).first()
        if previous is None or facts is None:
            raise ValueError(
                f"{submission.reference} has no assessment or no facts of revision "
                f"{submission.revision} to re-score."
            )
        if previous.rubric_id == rubric.pk and previous.facts_sha256 == facts.sha256:
            _outcome_record(publication, submission, RescoreOutcome.Status.SKIPPED, previous)
            return Rescore(submission, RescoreOutcome.Status.SKIPPED, previous, previous)
        result = assessment_compute(
            document=facts.document, provenance=facts.provenance, rubric=rubric
        )
        diff = engine.diff_assessments(previous.result, result)
        assessment = _store(
            submission, submission.revision, rubric, result, rescored_from=previous, diff=diff
        )
        overrides_carry_forward(source=previous, target=assessment)
        _outcome_record(
            publication, submission, RescoreOutcome.Status.RESCORED, previous, assessment
        )
        submission_event_record(
            submission=submission,
            acting_user=acting_user,
            action="assessment.rescore",
            payload={
                "revision": submission.revision,
                "rubric": f"{rubric.urn}@{rubric.version}",
                "from_rubric": diff["rubric"]["old"],
                "tier": result["tier"],
                "previous_tier": previous.tier,
                "overall_score": result["overall_score"],
                "changed_criteria": [criterion["id"] for criterion in diff["criteria"]],
                "publication": publication.pk if publication else None,
            },
        )
    return Rescore(submission, RescoreOutcome.Status.RESCORED, previous, assessment)


def _outcome_record(
    publication: RubricPublication | None,
    submission: Submission,
    status: str,
    previous: Assessment | None,
    assessment: Assessment | None = None,
    error: str = "",
) -> None:
    if publication is None:
        return
    # One statement (an upsert): a filing re-scored again under the same publication (a
    # retry, a chunk delivered twice) keeps one outcome, its latest.
    RescoreOutcome.objects.bulk_create(
        [
            RescoreOutcome(
                publication=publication,
                submission=submission,
                status=status,
                previous=previous,
                assessment=assessment,
                tier_changed=bool(
                    assessment and assessment.diff and assessment.diff["tier"]["changed"]
                ),
                error=error,
            )
        ],
        update_conflicts=True,
        unique_fields=["publication", "submission"],
        update_fields=["status", "previous", "assessment", "tier_changed", "error", "recorded_at"],
    )


def assessments_rescore_chunk(
    *,
    rubric: Rubric,
    submission_ids: Sequence[int],
    acting_user: Any | None = None,
    publication: RubricPublication | None = None,
) -> list[Rescore]:
    """Re-score these filings, each in its own transaction; one failing stops no other.

    A failure is logged and, under a publication, recorded with its reason. A database
    outage is not a filing's failure: it is raised so that the chunk is tried again
    (filings done meanwhile are skipped then).
    """
    rescores = []
    for submission, facts in _chunk_read(submission_ids):
        previous = submission.current_assessment
        try:
            rescore = assessment_rescore(
                submission=submission,
                facts=facts,
                rubric=rubric,
                acting_user=acting_user,
                publication=publication,
            )
        except RESCORE_TRANSIENT_ERRORS:
            raise
        except Exception as error:
            logger.exception("re-scoring %s under %s failed", submission.reference, rubric)
            reason = f"{type(error).__name__}: {error}"[:2000]
            submission.current_assessment = previous  # whatever the rolled-back try set
            with transaction.atomic():
                _outcome_record(
                    publication, submission, RescoreOutcome.Status.FAILED, previous, error=reason
                )
            rescore = Rescore(submission, RescoreOutcome.Status.FAILED, previous, error=reason)
        rescores.append(rescore)
    return rescores


def assessments_rescore(*, rubric: Rubric, acting_user: Any | None = None) -> list[Rescore]:
    """Re-assess every filed submission's current revision under `rubric`, here and now.

    What `manage.py rescore` runs (publishing runs the same chunks as background work).
    Filings already assessed under this rubric version for their current facts are
    skipped, so running it twice re-scores nothing twice.
    """
    rescores = []
    for chunk in batched(iter(rescore_candidates()), settings.GOVPORTAL_RESCORE_CHUNK_SIZE):
        rescores.extend(
            assessments_rescore_chunk(rubric=rubric, submission_ids=chunk, acting_user=acting_user)
        )
    return rescores


@transaction.atomic
def rubric_publication_plan(*, publication_id: int) -> RubricPublication:
    """Count a publication's filings and enqueue their re-scoring in chunks (once)."""
    publication = (
        RubricPublication.objects.select_for_update()
        .select_related("rubric")
        .get(pk=publication_id)
    )
    if publication.state != RubricPublication.State.QUEUED:
        return publication  # planned already: this task was delivered twice
    candidates = rescore_candidates()
    publication.total = len(candidates)
    publication.started_at = timezone.now()
    publication.state = RubricPublication.State.RUNNING
    if not candidates:
        publication.state = RubricPublication.State.DONE
        publication.finished_at = publication.started_at
    publication.save(update_fields=["total", "started_at", "state", "finished_at"])
    _chunks_enqueue(publication, candidates)
    return publication


def _chunks_enqueue(publication: RubricPublication, submission_ids: list[int]) -> None:
    for chunk in batched(iter(submission_ids), settings.GOVPORTAL_RESCORE_CHUNK_SIZE):
        outbox_enqueue(
            task=RESCORE_CHUNK_TASK,
            kwargs={"publication_id": publication.pk, "submission_ids": chunk},
        )


def rubric_publication_retry_failed(
    *, publication: RubricPublication, acting_user: Any
) -> RubricPublication:
    """Enqueue the filings that failed under a finished publication once more."""
    ensure(may_publish_rubric(acting_user), "Only a regulator admin may retry a re-scoring.")
    with transaction.atomic():
        publication = (
            RubricPublication.objects.select_for_update()
            .select_related("rubric")
            .get(pk=publication.pk)
        )
        if publication.state != RubricPublication.State.DONE:
            raise ServiceError("The re-scoring is still running; retry failures once it is done.")
        if not publication.rubric.in_force:
            raise ServiceError(
                f"{publication.rubric} is no longer in force; publish it again to re-score "
                "under it."
            )
        failed = list(
            publication.outcomes.filter(status=RescoreOutcome.Status.FAILED)
            .order_by("submission_id")
            .values_list("submission_id", flat=True)
        )
        if not failed:
            raise ServiceError("No filing failed under this publication.")
        publication.state = RubricPublication.State.RUNNING
        publication.finished_at = None
        publication.save(update_fields=["state", "finished_at"])
        audit_event_record(
            actor=acting_user,
            action="rubric.rescore_retry",
            object_type="rubric",
            object_id=str(publication.rubric),
            payload={"publication": publication.pk, "submissions": len(failed)},
        )
        _chunks_enqueue(publication, failed)
    return publication


def rubric_publication_rescore_chunk(
    *, publication_id: int, submission_ids: Sequence[int]
) -> RubricPublication:
    """One chunk of a publication's re-scoring, then its counts (and, at the end, done)."""
    publication = RubricPublication.objects.select_related("rubric", "published_by").get(
        pk=publication_id
    )
    assessments_rescore_chunk(
        rubric=publication.rubric,
        submission_ids=submission_ids,
        acting_user=publication.published_by,
        publication=publication,
    )
    return _publication_count(publication_id)


@transaction.atomic
def _publication_count(publication_id: int) -> RubricPublication:
    # Counted from the outcomes, not incremented: a chunk run twice counts its filings once.
    publication = RubricPublication.objects.select_for_update().get(pk=publication_id)
    counts = dict(
        publication.outcomes.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    publication.done = counts.get(RescoreOutcome.Status.RESCORED, 0)
    publication.skipped = counts.get(RescoreOutcome.Status.SKIPPED, 0)
    publication.failed = counts.get(RescoreOutcome.Status.FAILED, 0)
    fields = ["done", "skipped", "failed"]
    if (
        publication.finished_count >= publication.total
        and publication.state != RubricPublication.State.DONE
    ):
        publication.state = RubricPublication.State.DONE
        publication.finished_at = timezone.now()
        fields += ["state", "finished_at"]
        audit_event_record(
            actor=None,
            action="rubric.rescore_finish",
            object_type="rubric",
            object_id=f"{publication.rubric.urn}@{publication.rubric.version}",
            payload={
                "publication": publication.pk,
                "total": publication.total,
                "rescored": publication.done,
                "skipped": publication.skipped,
                "failed": publication.failed,
            },
        )
    publication.save(update_fields=fields)
    return publication
