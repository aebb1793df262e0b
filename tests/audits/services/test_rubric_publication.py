"""Publishing a rubric version: recorded, re-scored in chunks as background work, idempotent."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.errors import NotPermitted, ServiceError
from audits.models import (
    AuditEvent,
    Facts,
    OutboxMessage,
    Override,
    RescoreOutcome,
    RubricPublication,
    Submission,
)
from audits.selectors import rubric_in_force
from audits.services.assessment import (
    assessments_rescore,
    assessments_rescore_chunk,
    rubric_publication_rescore_chunk,
    rubric_publication_retry_failed,
)
from audits.services.rubrics import rubric_publish
from tests.audits.rescoring import filed
from tests.conftest import make_draft


@pytest.fixture
def publish(django_capture_on_commit_callbacks, tasks_in_process):
    """Publish as a request would, then run the work it enqueued (inline, as in commands)."""

    def run(rubric, acting_user):
        with django_capture_on_commit_callbacks(execute=True):
            return rubric_publish(rubric=rubric, acting_user=acting_user)

    return run


@pytest.fixture
def coding_agent(lab_member):
    return filed(
        lab_member, "Tessellate Coder", card="tessellate-coder-2.0.filing.yaml", version="2.0"
    )


def test_publishing_rescores_every_filing_with_its_diff_overrides_and_audit_event(
    coding_agent, lab_member, other_lab_member, reviewer, regulator_admin, newer_rubric, publish
):
    plain = filed(other_lab_member, "Orion")
    draft = make_draft(lab_member, "Still a draft")
    before = coding_agent.current_assessment
    # One override on the criterion the new version changes, one on a criterion it keeps.
    kept = before.result["criteria"][0]["id"]
    assert kept != "T1"
    for criterion, level in (("T1", 3), (kept, 0)):
        automated = next(c for c in before.result["criteria"] if c["id"] == criterion)["level"]
        Override.objects.create(
            assessment=before,
            criterion=criterion,
            automated_level=automated,
            level=level,
            reason="Seen in the evidence.",
            author=reviewer,
            origin_revision=1,
        )

    published = publish(newer_rubric, regulator_admin)

    assert published.started
    publication = RubricPublication.objects.get(pk=published.publication.pk)
    assert rubric_in_force() == newer_rubric
    assert publication.previous_rubric.version == "1.0.0"
    assert publication.published_by == regulator_admin
    assert publication.state == RubricPublication.State.DONE  # tasks run inline in tests
    assert (publication.total, publication.done, publication.failed) == (2, 2, 0)
    assert publication.finished_at is not None

    coding_agent.refresh_from_db()
    after = coding_agent.current_assessment
    assert after.rubric == newer_rubric and after.rescored_from == before
    assert after.diff["criteria"] == [
        {"id": "T1", "name": "interpretability_access", "old_level": 1, "new_level": 2}
    ]
    assert after.diff["overall_score"]["old"] == before.overall_score
    carried = {row.criterion: row for row in after.overrides.all()}
    assert carried["T1"].status == Override.Status.PENDING
    assert "automated level 1 → 2" in carried["T1"].status_note
    assert carried[kept].status == Override.Status.APPLIED

    outcome = RescoreOutcome.objects.get(publication=publication, submission=coding_agent)
    assert (outcome.status, outcome.previous, outcome.assessment) == ("rescored", before, after)
    plain.refresh_from_db()
    assert plain.current_assessment.rubric == newer_rubric
    assert not RescoreOutcome.objects.filter(submission=draft).exists()
    events = AuditEvent.objects.filter(action="assessment.rescore").order_by("sequence")
    assert [event.object_id for event in events] == sorted(
        [coding_agent.reference, plain.reference]
    )
    assert events.first().payload["publication"] == publication.pk
    finish = AuditEvent.objects.get(action="rubric.rescore_finish")
    assert finish.payload == {
        "publication": publication.pk,
        "total": 2,
        "rescored": 2,
        "skipped": 0,
        "failed": 0,
    }


def test_publishing_enqueues_the_work_through_the_outbox_in_chunks(
    lab_member, regulator_admin, newer_rubric, settings, publish
):
    settings.GOVPORTAL_RESCORE_CHUNK_SIZE = 2
    references = [filed(lab_member, f"Model {n}").reference for n in range(5)]
    publication = publish(newer_rubric, regulator_admin).publication

    plan = OutboxMessage.objects.get(task="audits.rubric_rescore_plan")
    assert plan.kwargs == {"publication_id": publication.pk}
    chunks = OutboxMessage.objects.filter(task="audits.rubric_rescore_chunk").order_by("id")
    ids = [chunk.kwargs["submission_ids"] for chunk in chunks]
    assert [len(chunk) for chunk in ids] == [2, 2, 1]
    chunked = Submission.objects.filter(pk__in=[pk for chunk in ids for pk in chunk])
    assert sorted(chunked.values_list("reference", flat=True)) == sorted(references)
    assert all(message.sent_at for message in [plan, *chunks])


def test_publishing_again_or_running_a_chunk_twice_changes_nothing(
    coding_agent, regulator_admin, newer_rubric, publish
):
    first = publish(newer_rubric, regulator_admin)
    assessment = Submission.objects.get(pk=coding_agent.pk).current_assessment

    again = publish(newer_rubric, regulator_admin)
    assert not again.started and again.publication == first.publication
    assert RubricPublication.objects.count() == 1

    # A chunk delivered twice (a worker died after finishing it) skips and counts once.
    publication = rubric_publication_rescore_chunk(
        publication_id=first.publication.pk, submission_ids=[coding_agent.pk]
    )
    assert (publication.total, publication.done, publication.skipped) == (1, 0, 1)
    assert Submission.objects.get(pk=coding_agent.pk).current_assessment == assessment
    assert AuditEvent.objects.filter(action="assessment.rescore").count() == 1


def test_a_failing_filing_is_recorded_with_its_reason_and_stops_no_other(
    coding_agent, lab_member, regulator_admin, newer_rubric, publish
):
    broken = filed(lab_member, "Broken")
    healthy = filed(lab_member, "Healthy")
    Facts.objects.filter(submission=broken).update(document={"model": "not an object"})

    publication = publish(newer_rubric, regulator_admin).publication
    publication.refresh_from_db()

    assert (publication.state, publication.done, publication.failed) == ("done", 2, 1)
    failure = RescoreOutcome.objects.get(publication=publication, status="failed")
    assert failure.submission == broken
    assert failure.error  # the engine's own words about the facts
    broken.refresh_from_db()
    assert broken.current_assessment.rubric.version == "1.0.0"  # left as it was
    healthy.refresh_from_db()
    assert healthy.current_assessment.rubric == newer_rubric


def test_a_second_publication_waits_for_the_first_to_finish(
    coding_agent, regulator_admin, newer_rubric, publish
):
    running = RubricPublication.objects.create(
        rubric=rubric_in_force(), state=RubricPublication.State.RUNNING, total=10
    )
    with pytest.raises(ServiceError, match="still being re-scored"):
        publish(newer_rubric, regulator_admin)
    assert rubric_in_force().version == "1.0.0"
    running.delete()


def test_only_regulator_admins_publish(reviewer, newer_rubric, publish):
    with pytest.raises(NotPermitted):
        publish(newer_rubric, reviewer)


def test_a_chunk_reads_in_bulk_whatever_its_size(lab_member, newer_rubric):
    small = [filed(lab_member, f"Small {n}").pk for n in range(2)]
    large = [filed(lab_member, f"Large {n}").pk for n in range(6)]

    def queries(ids):
        with CaptureQueriesContext(connection) as captured:
            rescores = assessments_rescore_chunk(rubric=newer_rubric, submission_ids=ids)
        assert [r.status for r in rescores] == ["rescored"] * len(ids)
        return [query["sql"] for query in captured.captured_queries]

    few, many = queries(small), queries(large)
    per_filing = (len(many) - len(few)) / (len(large) - len(small))
    assert per_filing == int(per_filing) and per_filing <= 14
    # The facts and the current assessments are read once per chunk, never per filing.
    for sql in (few, many):
        assert sum('FROM "audits_facts"' in query for query in sql) == 1
        reads = [query for query in sql if query.startswith("SELECT")]
        assert sum('"audits_assessment"."result"' in query for query in reads) == 1


def test_rescore_without_publishing_uses_the_same_function(coding_agent, newer_rubric):
    rescores = assessments_rescore(rubric=newer_rubric)
    assert [(r.submission, r.status) for r in rescores] == [(coding_agent, "rescored")]
    assert rubric_in_force().version == "1.0.0"
    assert [r.status for r in assessments_rescore(rubric=newer_rubric)] == ["skipped"]


def test_failed_filings_are_retried_once_their_cause_is_fixed(
    coding_agent, lab_member, regulator_admin, reviewer, newer_rubric, publish,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    broken = filed(lab_member, "Broken")
    facts = Facts.objects.get(submission=broken)
    document = facts.document
    Facts.objects.filter(pk=facts.pk).update(document={"model": "not an object"})
    publication = publish(newer_rubric, regulator_admin).publication
    publication.refresh_from_db()
    assert publication.failed == 1

    with pytest.raises(NotPermitted):
        rubric_publication_retry_failed(publication=publication, acting_user=reviewer)
    Facts.objects.filter(pk=facts.pk).update(document=document)  # the cause, fixed
    with django_capture_on_commit_callbacks(execute=True):
        rubric_publication_retry_failed(publication=publication, acting_user=regulator_admin)

    publication.refresh_from_db()
    assert (publication.state, publication.done, publication.failed) == ("done", 2, 0)
    broken.refresh_from_db()
    assert broken.current_assessment.rubric == newer_rubric
    with pytest.raises(ServiceError, match="No filing failed"):
        rubric_publication_retry_failed(publication=publication, acting_user=regulator_admin)
