"""Audit events become notifications in the portal and emails, read from a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import AuditEvent, Notification
from audits.services import submissions as lifecycle
from audits.services.api_keys import api_key_create
from audits.services.audit_log import audit_chain_verify_and_record
from audits.services.event_dispatch import audit_event_dispatch
from audits.services.notifications import (
    api_key_expiry_warnings_record,
    notification_preferences_set,
)
from audits.services.review import comment_add
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(lab_member, lab_admin, reviewer, second_reviewer, regulator_admin):
    for person in (lab_member, lab_admin, reviewer, second_reviewer, regulator_admin):
        person.email = f"{person.username}@example.org"
        person.save(update_fields=["email"])
    return {
        "lab_member": lab_member,
        "lab_admin": lab_admin,
        "reviewer": reviewer,
        "second_reviewer": second_reviewer,
        "regulator_admin": regulator_admin,
    }


def kinds_of(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_submission_tells_every_regulator_in_the_portal_and_by_email(
    cast, smtp_server, committed
):
    submission = make_draft(cast["lab_member"])
    with committed():
        lifecycle.submission_submit(
            submission=submission, acting_user=cast["lab_member"], accuracy_declared=True
        )

    for name in ("reviewer", "second_reviewer", "regulator_admin"):
        assert "submission_received" in kinds_of(cast[name])
    assert "submission_received" not in kinds_of(cast["lab_member"])
    mail = smtp_server.to("reviewer@example.org")
    received = [m for m in mail if "submitted" in m["Subject"]]
    assert len(received) == 1
    text = smtp_server.text(received[0])
    assert submission.reference in text
    assert f"http://127.0.0.1:8000/submissions/{submission.reference}/" in text


def test_a_change_request_emails_the_lab_with_the_rationale_and_a_link(
    cast, smtp_server, settings, committed
):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    submission = make_draft(cast["lab_member"])
    with committed():
        submission = lifecycle.submission_submit(
            submission=submission, acting_user=cast["lab_member"], accuracy_declared=True
        )
    with committed():
        submission = lifecycle.submission_start_review(
            submission=submission, acting_user=cast["reviewer"]
        )
    with committed():
        lifecycle.submission_request_changes(
            submission=submission, acting_user=cast["reviewer"], rationale="Add the probe study."
        )

    for name in ("lab_member", "lab_admin"):
        [message] = [
            m
            for m in smtp_server.to(f"{cast[name].username}@example.org")
            if "changes requested" in m["Subject"]
        ]
        text = smtp_server.text(message)
        assert "Add the probe study." in text
        assert f"https://portal.example.org/submissions/{submission.reference}/" in text
    # The reviewer who asked is not told of their own act.
    assert "changes_requested" not in kinds_of(cast["reviewer"])


def test_email_preferences_silence_email_but_never_the_portal(cast, smtp_server, committed):
    notification_preferences_set(acting_user=cast["lab_admin"], email_kinds=["decision"])
    submission = make_draft(cast["lab_member"])
    with committed():
        submission = lifecycle.submission_submit(
            submission=submission, acting_user=cast["lab_member"], accuracy_declared=True
        )
    with committed():
        submission = lifecycle.submission_start_review(
            submission=submission, acting_user=cast["reviewer"]
        )
    with committed():
        lifecycle.submission_request_changes(
            submission=submission, acting_user=cast["reviewer"], rationale="More."
        )

    assert "changes_requested" in kinds_of(cast["lab_admin"])
    subjects = [m["Subject"] for m in smtp_server.to("lab-admin@example.org")]
    assert not any("changes requested" in subject for subject in subjects)
    assert any(
        "changes requested" in m["Subject"] for m in smtp_server.to("lab-member@example.org")
    )


def test_reassignment_tells_the_new_and_the_previous_assignee(cast, smtp_server, committed):
    with committed():
        submission = lifecycle.submission_submit(
            submission=make_draft(cast["lab_member"]),
            acting_user=cast["lab_member"],
            accuracy_declared=True,
        )
    with committed():
        lifecycle.submission_assign(
            submission=submission, acting_user=cast["regulator_admin"], reviewer=cast["reviewer"]
        )
    with committed():
        lifecycle.submission_assign(
            submission=submission,
            acting_user=cast["regulator_admin"],
            reviewer=cast["second_reviewer"],
        )

    taken = Notification.objects.get(recipient=cast["reviewer"], subject__contains="reassigned")
    assert "from you to reviewer-two" in taken.body
    assert Notification.objects.filter(
        recipient=cast["second_reviewer"], kind="assignment", subject__contains="assigned to you"
    ).exists()
    assert any("reassigned" in m["Subject"] for m in smtp_server.to("reviewer@example.org"))


def test_comments_go_to_the_other_side(cast, smtp_server, committed):
    with committed():
        submission = lifecycle.submission_submit(
            submission=make_draft(cast["lab_member"]),
            acting_user=cast["lab_member"],
            accuracy_declared=True,
        )
    with committed():
        submission = lifecycle.submission_start_review(
            submission=submission, acting_user=cast["reviewer"]
        )
    with committed():
        comment_add(
            submission=submission, acting_user=cast["lab_member"], body="We ran the probes."
        )
    with committed():
        comment_add(
            submission=submission, acting_user=cast["reviewer"], body="Thanks; attach them."
        )

    # The lab's comment reaches the assigned reviewer only; the regulator's, the lab.
    assert "comment" in kinds_of(cast["reviewer"])
    assert "comment" not in kinds_of(cast["second_reviewer"])
    assert "comment" in kinds_of(cast["lab_admin"])
    [lab_mail] = [m for m in smtp_server.to("lab-admin@example.org") if "comment" in m["Subject"]]
    assert "Thanks; attach them." in smtp_server.text(lab_mail)


def test_a_ready_report_and_a_decision_reach_the_lab(cast, smtp_server, committed):
    with committed():
        submission = lifecycle.submission_submit(
            submission=make_draft(cast["lab_member"]),
            acting_user=cast["lab_member"],
            accuracy_declared=True,
        )
    with committed():
        submission = lifecycle.submission_start_review(
            submission=submission, acting_user=cast["reviewer"]
        )
    with committed():
        lifecycle.submission_accept(
            submission=submission, acting_user=cast["reviewer"], rationale="Fine."
        )

    kinds = kinds_of(cast["lab_member"])
    assert "decision" in kinds
    # The provisional report, then the final one (each issued report is one notice).
    issued = AuditEvent.objects.filter(action="report.issue").count()
    assert issued >= 2 and kinds.count("report_ready") == issued
    subjects = [m["Subject"] for m in smtp_server.to("lab-member@example.org")]
    assert any("accepted" in subject for subject in subjects)
    assert any("report v2 is ready" in subject for subject in subjects)


def test_dispatching_an_event_twice_tells_nobody_twice(cast, smtp_server, committed):
    with committed():
        submission = lifecycle.submission_submit(
            submission=make_draft(cast["lab_member"]),
            acting_user=cast["lab_member"],
            accuracy_declared=True,
        )
    event = AuditEvent.objects.get(action="submission.submit", object_id=submission.reference)
    before = (Notification.objects.count(), len(smtp_server.messages))
    assert audit_event_dispatch(event_id=event.pk) == {"notifications": 0, "deliveries": 0}
    assert (Notification.objects.count(), len(smtp_server.messages)) == before


def test_keys_about_to_expire_warn_the_lab_admins_once(cast, lab, smtp_server, committed):
    soon = timezone.now() + timedelta(days=3)
    later = timezone.now() + timedelta(days=90)
    with committed():
        api_key_create(organization=lab, acting_user=None, name="release CI", expires_at=soon)
    with committed():
        api_key_create(organization=lab, acting_user=None, name="nightly", expires_at=later)

    with committed():
        assert api_key_expiry_warnings_record() == 1
    with committed():
        assert api_key_expiry_warnings_record() == 0  # warned once per key
    [warning] = Notification.objects.filter(kind="key_expiring")
    assert warning.recipient == cast["lab_admin"]
    assert "release CI" in warning.subject
    assert any("release CI" in m["Subject"] for m in smtp_server.to("lab-admin@example.org"))
    assert not Notification.objects.filter(recipient=cast["lab_member"], kind="key_expiring")


def test_a_broken_audit_chain_tells_the_regulator_admins_once(cast, smtp_server, committed):
    make_draft(cast["lab_member"])
    with committed():
        assert audit_chain_verify_and_record()["intact"] is True
    assert not Notification.objects.filter(kind="audit_chain_break").exists()

    # Someone edits a recorded event in the database.
    AuditEvent.objects.filter(action="submission.create").update(payload={"model": "forged"})
    with committed():
        assert audit_chain_verify_and_record()["intact"] is False
    with committed():
        assert audit_chain_verify_and_record()["intact"] is False  # still broken, same place

    [alert] = Notification.objects.filter(kind="audit_chain_break")
    assert alert.recipient == cast["regulator_admin"]
    assert any("audit chain" in m["Subject"] for m in smtp_server.to("regulator-admin@example.org"))
    assert not Notification.objects.filter(recipient=cast["reviewer"], kind="audit_chain_break")


def test_a_review_coming_due_reminds_its_reviewer_then_again_once_overdue(
    cast, smtp_server, committed
):
    from audits.models import Submission
    from audits.services.notifications import review_due_reminders_record

    with committed():
        submission = lifecycle.submission_submit(
            submission=make_draft(cast["lab_member"]),
            acting_user=cast["lab_member"],
            accuracy_declared=True,
        )
    with committed():
        lifecycle.submission_start_review(submission=submission, acting_user=cast["reviewer"])
    now = timezone.now()
    Submission.objects.filter(pk=submission.pk).update(review_due_at=now + timedelta(days=2))
    with committed():
        assert review_due_reminders_record(now=now) == 1
    with committed():
        assert review_due_reminders_record(now=now) == 0  # once per stage
    [soon] = Notification.objects.filter(kind="review_due")
    assert soon.recipient == cast["reviewer"]
    assert "due soon" in soon.subject
    assert any("due soon" in m["Subject"] for m in smtp_server.to("reviewer@example.org"))

    later = now + timedelta(days=3)
    with committed():
        assert review_due_reminders_record(now=later) == 1
    overdue = Notification.objects.filter(kind="review_due").order_by("-pk").first()
    assert "overdue" in overdue.subject and overdue.recipient == cast["reviewer"]
    assert not Notification.objects.filter(recipient=cast["lab_member"], kind="review_due")
