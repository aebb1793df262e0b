"""Overrides carry forward to the next revision: applied when nothing they rest on changed,
otherwise put to the reviewer to confirm or drop, and never silently gone."""

import pytest

from audits.errors import NotPermitted, ServiceError
from audits.models import AuditEvent, Override
from audits.selectors import assessment_reviewed
from audits.services.intake import filing_document_attach
from audits.services.review import (
    criterion_override,
    override_confirm,
    override_drop,
)
from audits.services.submissions import (
    submission_accept,
    submission_request_changes,
    submission_start_review,
    submission_submit,
)

IDENTITY = {"name": "Atlas", "version": "2.1", "developer": "Example Lab"}


def _criterion(assessment, criterion_id):
    return next(c for c in assessment.result["criteria"] if c["id"] == criterion_id)


@pytest.fixture
def overridden_then_returned(draft, lab_member, reviewer):
    """Revision 1 under review with D1 overridden to 3, then sent back for changes."""
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    criterion_override(
        submission=submission,
        acting_user=reviewer,
        criterion="D1",
        level=3,
        reason="The deployment retrains on user sessions.",
    )
    return submission_request_changes(
        submission=submission, acting_user=reviewer, rationale="Supply the RL horizon."
    )


def _resubmit(submission, lab_member, reviewer, document=None):
    if document is not None:
        filing_document_attach(submission=submission, acting_user=lab_member, document=document)
    submission = submission_submit(
        submission=submission, acting_user=lab_member, accuracy_declared=True
    )
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    submission.refresh_from_db()
    return submission


def test_an_override_on_unchanged_facts_is_carried_and_applied(
    overridden_then_returned, lab_member, reviewer
):
    submission = _resubmit(overridden_then_returned, lab_member, reviewer)
    assert submission.revision == 2
    carried = Override.objects.get(assessment=submission.current_assessment)
    assert (carried.criterion, carried.level, carried.status) == ("D1", 3, "applied")
    assert carried.origin_revision == 1
    assert carried.carried and carried.carried_from.assessment.revision == 1
    assert carried.reason == "The deployment retrains on user sessions."
    reviewed = assessment_reviewed(submission.current_assessment)
    d1 = next(c for c in reviewed["criteria"] if c["id"] == "D1")
    assert (d1["level"], d1["overridden"]) == (3, True)
    event = AuditEvent.objects.get(action="assessment.overrides_carry")
    assert event.payload["overrides"] == [{"criterion": "D1", "status": "applied", "note": ""}]
    # Nothing waits: the reviewer may decide at once.
    submission_accept(submission=submission, acting_user=reviewer, rationale="Fine.")


def test_an_override_whose_facts_changed_waits_and_blocks_the_decision(
    overridden_then_returned, lab_member, reviewer
):
    submission = _resubmit(
        overridden_then_returned,
        lab_member,
        reviewer,
        {
            "filing_schema": "govportal/filing/1",
            "model": IDENTITY,
            "training": {"rl_horizon_steps": 5000},
        },
    )
    pending = Override.objects.get(assessment=submission.current_assessment)
    assert pending.status == "pending"
    assert "revision 1 no longer applies" in pending.status_note
    assert "training.rl_horizon_steps not supplied → 5000" in pending.status_note
    # Waiting overrides are not applied...
    reviewed = assessment_reviewed(submission.current_assessment)
    d1 = next(c for c in reviewed["criteria"] if c["id"] == "D1")
    assert "overridden" not in d1
    # ...and no decision is taken while one waits.
    with pytest.raises(ServiceError, match="D1"):
        submission_accept(submission=submission, acting_user=reviewer, rationale="Fine.")

    confirmed = override_confirm(submission=submission, acting_user=reviewer, criterion="D1")
    assert confirmed.status == "applied"
    reviewed = assessment_reviewed(submission.current_assessment)
    assert next(c for c in reviewed["criteria"] if c["id"] == "D1")["level"] == 3
    assert AuditEvent.objects.filter(action="assessment.override_confirm").count() == 1
    submission_accept(submission=submission, acting_user=reviewer, rationale="Fine.")


def test_a_dropped_override_leaves_the_automated_level_and_stays_on_record(
    overridden_then_returned, lab_member, reviewer
):
    submission = _resubmit(
        overridden_then_returned,
        lab_member,
        reviewer,
        {
            "filing_schema": "govportal/filing/1",
            "model": IDENTITY,
            "training": {"rl_horizon_steps": 5000},
        },
    )
    with pytest.raises(ServiceError, match="why"):
        override_drop(submission=submission, acting_user=reviewer, criterion="D1", reason=" ")
    dropped = override_drop(
        submission=submission, acting_user=reviewer, criterion="D1", reason="Horizon explains it."
    )
    assert (dropped.status, dropped.status_note) == ("dropped", "Horizon explains it.")
    reviewed = assessment_reviewed(submission.current_assessment)
    d1 = next(c for c in reviewed["criteria"] if c["id"] == "D1")
    assert d1["level"] == _criterion(submission.current_assessment, "D1")["level"]
    submission_accept(submission=submission, acting_user=reviewer, rationale="Fine.")
    # A third revision would not bring a dropped override back.
    assert Override.objects.filter(status="dropped").count() == 1


def test_only_the_assigned_reviewer_confirms_a_waiting_override(
    overridden_then_returned, lab_member, reviewer, second_reviewer
):
    submission = _resubmit(
        overridden_then_returned,
        lab_member,
        reviewer,
        {
            "filing_schema": "govportal/filing/1",
            "model": IDENTITY,
            "training": {"rl_horizon_steps": 5000},
        },
    )
    for outsider in (second_reviewer, lab_member):
        with pytest.raises(NotPermitted):
            override_confirm(submission=submission, acting_user=outsider, criterion="D1")
    assert Override.objects.get(assessment=submission.current_assessment).status == "pending"
