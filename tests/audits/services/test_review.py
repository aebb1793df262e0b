import pytest

from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.models import AuditEvent, Override
from audits.selectors import assessment_reviewed
from audits.services.review import comment_add, criterion_override
from audits.services.submissions import submission_start_review, submission_submit


@pytest.fixture
def under_review(draft, lab_member, reviewer):
    submitted = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    return submission_start_review(submission=submitted, acting_user=reviewer)


def test_an_override_keeps_the_automated_level_and_rescores(under_review, reviewer):
    assessment = under_review.current_assessment
    automated = next(c for c in assessment.result["criteria"] if c["id"] == "E1")
    override = criterion_override(
        submission=under_review, acting_user=reviewer, criterion="E1", level=3, reason="Probe study"
    )
    assert (override.automated_level, override.level) == (automated["level"], 3)
    reviewed = assessment_reviewed(assessment)
    e1 = next(c for c in reviewed["criteria"] if c["id"] == "E1")
    assert (e1["level"], e1["automated_level"], e1["overridden"]) == (3, automated["level"], True)
    assert reviewed["overall_score"] > assessment.result["overall_score"]
    assert AuditEvent.objects.filter(action="assessment.override").count() == 1
    # A second override of the same criterion replaces the first.
    criterion_override(
        submission=under_review, acting_user=reviewer, criterion="E1", level=1, reason="Less"
    )
    assert Override.objects.get().level == 1


def test_without_overrides_the_stored_result_stands(under_review):
    assessment = under_review.current_assessment
    assert assessment_reviewed(assessment) == assessment.result


@pytest.mark.parametrize(
    "criterion,level,reason,error",
    [
        ("E1", 4, "too high", "outside 0–3"),
        ("E5", 2, "max is one", "outside 0–1"),
        ("Z9", 1, "unknown", "No criterion 'Z9'"),
        ("E1", 1, "   ", "justification"),
    ],
)
def test_bad_overrides_are_refused(under_review, reviewer, criterion, level, reason, error):
    with pytest.raises(ServiceError, match=error):
        criterion_override(
            submission=under_review,
            acting_user=reviewer,
            criterion=criterion,
            level=level,
            reason=reason,
        )
    assert not Override.objects.exists()


def test_only_the_assigned_reviewer_or_an_admin_overrides(
    under_review, second_reviewer, regulator_admin, lab_member
):
    for outsider in (second_reviewer, lab_member):
        with pytest.raises(NotPermitted):
            criterion_override(
                submission=under_review, acting_user=outsider, criterion="E1", level=1, reason="x"
            )
    criterion_override(
        submission=under_review, acting_user=regulator_admin, criterion="E1", level=1, reason="x"
    )


def test_overrides_only_under_review(draft, lab_member, regulator_admin):
    submitted = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    with pytest.raises(TransitionRefused, match="under review"):
        criterion_override(
            submission=submitted, acting_user=regulator_admin, criterion="E1", level=1, reason="x"
        )


def test_comments_by_the_lab_and_regulators(under_review, lab_member, reviewer, other_lab_member):
    comment_add(submission=under_review, acting_user=reviewer, body="Why broad?", criterion="E1")
    comment_add(submission=under_review, acting_user=lab_member, body="120 task families.")
    with pytest.raises(NotPermitted):
        comment_add(submission=under_review, acting_user=other_lab_member, body="Peek")
    with pytest.raises(ServiceError, match="No criterion"):
        comment_add(submission=under_review, acting_user=reviewer, body="x", criterion="Q1")
    assert [c.criterion for c in under_review.comments.all()] == ["E1", ""]


def test_regulators_cannot_comment_on_drafts(draft, reviewer):
    with pytest.raises(NotPermitted, match="drafts"):
        comment_add(submission=draft, acting_user=reviewer, body="Early look")
