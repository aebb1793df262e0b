import re

import pytest

from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.models import AuditEvent, Review, Submission, SubmissionRevision
from audits.services.submissions import (
    TRANSITIONS,
    submission_accept,
    submission_assign,
    submission_create,
    submission_reject,
    submission_request_changes,
    submission_start_review,
    submission_submit,
)

Status = Submission.Status


def test_create_issues_a_yearly_reference_and_opens_a_draft(lab_member):
    first = submission_create(acting_user=lab_member, model_name="Atlas", model_version="1")
    second = submission_create(acting_user=lab_member, model_name="Atlas", model_version="2")
    assert re.fullmatch(r"TA-\d{4}-\d{6}", first.reference)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
    assert first.status == Status.DRAFT
    assert first.model == second.model  # one AIModel per name and lab


def test_regulators_cannot_open_filings(reviewer):
    with pytest.raises(NotPermitted):
        submission_create(acting_user=reviewer, model_name="Atlas", model_version="1")


def test_the_whole_lifecycle_with_a_resubmission(draft, lab_member, reviewer):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    assert (submission.status, submission.revision) == (Status.SUBMITTED, 1)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    assert submission.status == Status.UNDER_REVIEW
    assert submission.assigned_to == reviewer
    submission = submission_request_changes(
        submission=submission, acting_user=reviewer, rationale="More evals"
    )
    assert submission.status == Status.CHANGES_REQUESTED
    submission = submission_submit(
        submission=submission, acting_user=lab_member, accuracy_declared=True
    )
    assert (submission.status, submission.revision) == (Status.SUBMITTED, 2)
    assert submission.current_assessment.revision == 2
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    submission = submission_accept(
        submission=submission, acting_user=reviewer, rationale="Adequate"
    )
    assert submission.status == Status.ACCEPTED
    assert submission.decided_at is not None
    assert list(
        SubmissionRevision.objects.filter(submission=submission).values_list("number", flat=True)
    ) == [1, 2]
    assert list(
        Review.objects.filter(submission=submission).values_list("decision", "revision")
    ) == [
        ("request_changes", 1),
        ("accept", 2),
    ]
    actions = list(
        AuditEvent.objects.filter(object_id=submission.reference).values_list("action", flat=True)
    )
    assert actions == [
        "submission.create",
        "model_card.attach",
        "assessment.run",
        "report.request",
        "submission.submit",
        "submission.start_review",
        "submission.request_changes",
        "report.request",
        "assessment.run",
        "report.request",
        "submission.submit",
        "submission.start_review",
        "submission.accept",
        "report.request",
    ]
    kinds = list(
        submission.reports.order_by("version", "variant").values_list(
            "version", "revision", "kind", "variant"
        )
    )
    assert kinds == [
        (1, 1, "provisional", "confidential"),
        (2, 1, "provisional", "confidential"),
        (3, 2, "provisional", "confidential"),
        (4, 2, "final", "confidential"),
        (4, 2, "final", "public"),
    ]


ALL_STATUSES = [s.value for s in Status]
ALLOWED = {(t.source, t.target) for t in TRANSITIONS}


@pytest.mark.parametrize(
    "source,target",
    # No service moves a filing back to draft (see the test below), so targets exclude it.
    [(s, t) for s in ALL_STATUSES for t in ALL_STATUSES if (s, t) not in ALLOWED and t != "draft"],
)
def test_every_other_transition_is_refused_naming_state_and_next_ones(
    draft, lab_member, regulator_admin, source, target
):
    Submission.objects.filter(pk=draft.pk).update(
        status=source, submitted_at=None if source == Status.DRAFT else draft.created_at
    )
    draft.refresh_from_db()
    actor = lab_member if target == Status.SUBMITTED else regulator_admin
    calls = {
        Status.SUBMITTED: lambda: submission_submit(
            submission=draft, acting_user=actor, accuracy_declared=True
        ),
        Status.UNDER_REVIEW: lambda: submission_start_review(submission=draft, acting_user=actor),
        Status.CHANGES_REQUESTED: lambda: submission_request_changes(
            submission=draft, acting_user=actor, rationale="x"
        ),
        Status.ACCEPTED: lambda: submission_accept(
            submission=draft, acting_user=actor, rationale="x"
        ),
        Status.REJECTED: lambda: submission_reject(
            submission=draft, acting_user=actor, rationale="x"
        ),
    }
    events_before = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused) as refused:
        calls[target]()
    message = refused.value.message
    assert f"is {source}" in message
    allowed = [t for s, t in ALLOWED if s == source]
    for status in allowed:
        assert status in message
    if not allowed:
        assert "final" in message
    draft.refresh_from_db()
    assert draft.status == source
    assert AuditEvent.objects.count() == events_before


def test_nothing_leads_back_to_draft():
    assert all(t.target != Status.DRAFT for t in TRANSITIONS)


def test_only_members_of_the_filing_lab_submit(draft, other_lab_member, reviewer, regulator_admin):
    for outsider in (other_lab_member, reviewer, regulator_admin):
        with pytest.raises(NotPermitted):
            submission_submit(submission=draft, acting_user=outsider, accuracy_declared=True)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_lab_admins_submit_too(draft, lab_admin):
    assert (
        submission_submit(submission=draft, acting_user=lab_admin, accuracy_declared=True).status
        == Status.SUBMITTED
    )


def test_labs_cannot_review_or_decide(draft, lab_member, lab_admin):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    for lab_user in (lab_member, lab_admin):
        with pytest.raises(NotPermitted):
            submission_start_review(submission=submission, acting_user=lab_user)


def test_only_the_assigned_reviewer_or_an_admin_decides(
    draft, lab_member, reviewer, second_reviewer, regulator_admin
):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    with pytest.raises(NotPermitted, match="assigned"):
        submission_accept(submission=submission, acting_user=second_reviewer, rationale="ok")
    submission = submission_reject(
        submission=submission, acting_user=regulator_admin, rationale="Unsafe"
    )
    assert submission.status == Status.REJECTED


def test_a_decision_needs_a_rationale(draft, lab_member, reviewer):
    submission = submission_start_review(
        submission=submission_submit(
            submission=draft, acting_user=lab_member, accuracy_declared=True
        ),
        acting_user=reviewer,
    )
    with pytest.raises(ServiceError, match="rationale"):
        submission_accept(submission=submission, acting_user=reviewer, rationale="  ")
    submission.refresh_from_db()
    assert submission.status == Status.UNDER_REVIEW
    assert not Review.objects.exists()


def test_assignment_rules(draft, lab_member, reviewer, second_reviewer, regulator_admin):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    with pytest.raises(NotPermitted):
        submission_assign(submission=submission, acting_user=reviewer, reviewer=second_reviewer)
    assert (
        submission_assign(
            submission=submission, acting_user=reviewer, reviewer=reviewer
        ).assigned_to
        == reviewer
    )
    submission = submission_assign(
        submission=submission, acting_user=regulator_admin, reviewer=second_reviewer
    )
    assert submission.assigned_to == second_reviewer
    with pytest.raises(NotPermitted):
        submission_assign(submission=submission, acting_user=lab_member, reviewer=reviewer)


def test_a_reviewer_cannot_take_a_filing_assigned_to_someone_else(
    draft, lab_member, reviewer, second_reviewer, regulator_admin
):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    assert submission.assigned_to == reviewer
    with pytest.raises(NotPermitted, match="only an unassigned filing"):
        submission_assign(
            submission=submission, acting_user=second_reviewer, reviewer=second_reviewer
        )
    with pytest.raises(NotPermitted):
        submission_accept(submission=submission, acting_user=second_reviewer, rationale="Mine.")
    submission.refresh_from_db()
    assert (submission.assigned_to, submission.status) == (reviewer, "under_review")
    # A regulator admin reassigns; the event names both reviewers.
    submission_assign(submission=submission, acting_user=regulator_admin, reviewer=second_reviewer)
    event = AuditEvent.objects.filter(action="submission.assign").last()
    assert event.payload["assigned_to"] == "reviewer-two"
    assert event.payload["previously_assigned_to"] == "reviewer"


def test_submitting_needs_the_accuracy_declaration(draft, lab_member):
    with pytest.raises(ServiceError, match="accuracy declaration") as refused:
        submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=False)
    assert refused.value.details == {"field": "accuracy_declaration"}
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not draft.revisions.exists()


def test_working_days_skip_weekends():
    from datetime import UTC, datetime

    from audits.services.submissions import working_days_after

    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert working_days_after(friday, 1) == datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC)
    assert working_days_after(friday, 10).date().isoformat() == "2026-12-18"


def test_a_submission_gets_its_review_due_date_from_the_tiers_service_level(
    draft, lab_member, settings
):
    settings.GOVPORTAL_REVIEW_SLA_DAYS = {"default": 30, "moderate": 3}
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    tier = submission.current_assessment.tier
    days = settings.GOVPORTAL_REVIEW_SLA_DAYS.get(tier, 30)
    from audits.services.submissions import working_days_after

    assert submission.review_due_at == working_days_after(submission.submitted_at, days)
    event = AuditEvent.objects.get(action="submission.submit")
    assert event.payload["review_due_at"] == submission.review_due_at.isoformat()


def test_a_change_request_can_set_the_date_the_lab_answers_by(draft, lab_member, reviewer):
    import datetime

    from django.utils import timezone

    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    with pytest.raises(ServiceError, match="in the future"):
        submission_request_changes(
            submission=submission,
            acting_user=reviewer,
            rationale="More.",
            answer_by=timezone.now().date(),
        )
    answer_by = timezone.now().date() + datetime.timedelta(days=14)
    submission = submission_request_changes(
        submission=submission, acting_user=reviewer, rationale="More.", answer_by=answer_by
    )
    assert submission.answer_due_at.date() == answer_by
    assert Review.objects.get().answer_due_at == submission.answer_due_at
    # Answering clears it; the new revision gets a review due date of its own.
    again = submission_submit(submission=submission, acting_user=lab_member, accuracy_declared=True)
    assert again.answer_due_at is None and again.review_due_at is not None
