"""Telling people: one audit event becomes notifications for the people it concerns.

In the portal a notification is always shown (the bell); by email only if its recipient
keeps that kind on. Emails are sent by their own retried task after the notification's
transaction commits, never inside a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audits.models import (
    AuditEvent,
    Comment,
    Membership,
    Notification,
    NotificationPreference,
    Organization,
    OrganizationAPIKey,
    Submission,
)
from audits.roles import membership_of
from audits.services.audit_log import audit_event_record
from audits.services.outbox import outbox_enqueue

Kind = Notification.Kind
EMAIL_TASK = "audits.notification_email"


@dataclass(frozen=True)
class Message:
    """What to tell whom about one event."""

    kind: str
    recipients: list[Any]
    subject: str
    body: str
    link: str
    submission: Submission | None = None


def portal_url(path: str) -> str:
    """An absolute address in the portal, for emails and webhook payloads."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


# --- who ------------------------------------------------------------------------------------


def _people() -> QuerySet[Any]:
    # Active accounts only: API keys' principals are inactive and read no mail.
    return get_user_model().objects.filter(is_active=True).order_by("pk")


def members_of(organization: Organization, *, admins_only: bool = False) -> list[Any]:
    people = _people().filter(membership__organization=organization)
    if admins_only:
        people = people.filter(membership__role=Membership.Role.ADMIN)
    return list(people)


def regulators(*, admins_only: bool = False) -> list[Any]:
    people = _people().filter(membership__organization__kind=Organization.Kind.REGULATOR)
    if admins_only:
        people = people.filter(membership__role=Membership.Role.ADMIN)
    return list(people)


def _by_username(username: Any) -> list[Any]:
    if not username:
        return []
    return list(_people().filter(username=username))


# --- what -----------------------------------------------------------------------------------


def _submission(event: AuditEvent) -> Submission | None:
    if event.object_type != "submission":
        return None
    return (
        Submission.objects.select_related("organization", "model", "assigned_to")
        .filter(reference=event.object_id)
        .first()
    )


def _filing(submission: Submission) -> str:
    return f"{submission.reference} ({submission.model.name} {submission.model_version})"


def _messages_for(event: AuditEvent) -> list[Message]:
    """Who is told what about `event` (the actor is never told of their own act)."""
    payload = event.payload
    submission = _submission(event)
    actor = event.actor_label
    if submission is not None:
        filing = _filing(submission)
        link = reverse("submission", kwargs={"reference": submission.reference})
        lab_people = members_of(submission.organization)
        action = event.action
        if action == "submission.submit":
            revision = payload.get("revision", submission.revision)
            return [
                Message(
                    Kind.SUBMISSION_RECEIVED,
                    [submission.assigned_to] if submission.assigned_to else regulators(),
                    f"{filing}: revision {revision} submitted",
                    f"{submission.organization.name} submitted {filing}, revision {revision}. "
                    "It is waiting for review.",
                    link,
                    submission,
                )
            ]
        if action == "submission.assign":
            assignee = payload.get("assigned_to", "")
            previous = payload.get("previously_assigned_to") or ""
            messages = [
                Message(
                    Kind.ASSIGNMENT,
                    _by_username(assignee),
                    f"{filing} is assigned to you",
                    f"{actor} assigned {filing} to you for review.",
                    link,
                    submission,
                )
            ]
            if previous and previous != assignee:
                messages.append(
                    Message(
                        Kind.ASSIGNMENT,
                        _by_username(previous),
                        f"{filing} is reassigned to {assignee}",
                        f"{actor} reassigned {filing} from you to {assignee}; "
                        "you no longer review it.",
                        link,
                        submission,
                    )
                )
            return messages
        if action == "submission.request_changes":
            return [
                Message(
                    Kind.CHANGES_REQUESTED,
                    lab_people,
                    f"{filing}: changes requested",
                    f"The regulator requested changes to {filing}, revision "
                    f"{payload.get('revision')}:\n\n{payload.get('rationale', '')}\n\n"
                    "Answer with a new revision: attach what is asked for and resubmit.",
                    link,
                    submission,
                )
            ]
        if action in ("submission.accept", "submission.reject"):
            verdict = "accepted" if action == "submission.accept" else "rejected"
            return [
                Message(
                    Kind.DECISION,
                    lab_people,
                    f"{filing}: {verdict}",
                    f"The regulator {verdict} {filing}, revision {payload.get('revision')}:"
                    f"\n\n{payload.get('rationale', '')}\n\nThe final report follows shortly.",
                    link,
                    submission,
                )
            ]
        if action == "report.issue":
            return [
                Message(
                    Kind.REPORT_READY,
                    lab_people,
                    f"{filing}: report v{payload.get('version')} is ready",
                    f"The {payload.get('kind', '')} transparency audit report v"
                    f"{payload.get('version')} of {filing} is ready to download.",
                    link,
                    submission,
                )
            ]
        if action == "comment.add":
            return _comment_messages(event, submission, filing, link, lab_people)
        if action == "submission.review_due":
            overdue = payload.get("stage") == "overdue"
            return [
                Message(
                    Kind.REVIEW_DUE,
                    [submission.assigned_to]
                    if submission.assigned_to
                    else regulators(admins_only=True),
                    f"{filing}: review {'overdue' if overdue else 'due soon'}",
                    f"The review of {filing} (revision {payload.get('revision')}) is due on "
                    f"{payload.get('due_on')}"
                    + (" and is now overdue." if overdue else ".")
                    + ("" if submission.assigned_to else " Nobody is assigned to it yet."),
                    link,
                    submission,
                )
            ]
        return []
    if event.action == "api_key.expiry_warning" and event.organization is not None:
        return [
            Message(
                Kind.KEY_EXPIRING,
                members_of(event.organization, admins_only=True),
                f"API key “{payload.get('name')}” expires on {payload.get('expires_on')}",
                f"The API key “{payload.get('name')}” ({event.object_id}…) of "
                f"{event.organization.name} expires on {payload.get('expires_on')}. Create a "
                "new key and give it to the pipeline that uses this one before then.",
                reverse("api-keys"),
            )
        ]
    if event.action == "audit_log.verify" and _newly_broken(event):
        return [
            Message(
                Kind.AUDIT_CHAIN_BREAK,
                regulators(admins_only=True),
                "The audit chain does not verify",
                f"The scheduled check of the audit log found a break at {payload.get('break')}. "
                "The log may have been altered; compare it with the anchored heads and "
                "investigate before relying on it.",
                reverse("audit-trail"),
            )
        ]
    return []


def _comment_messages(
    event: AuditEvent, submission: Submission, filing: str, link: str, lab_people: list[Any]
) -> list[Message]:
    comment = (
        Comment.objects.select_related("author").filter(pk=event.payload.get("comment_id")).first()
    )
    if comment is None:
        return []
    author_membership = membership_of(comment.author)
    from_lab = author_membership is not None and author_membership.organization.is_lab
    if from_lab:
        recipients = [submission.assigned_to] if submission.assigned_to else regulators()
        who = submission.organization.name
    else:
        recipients = lab_people
        who = "The regulator"
    on = f" on criterion {comment.criterion}" if comment.criterion else ""
    return [
        Message(
            Kind.COMMENT,
            recipients,
            f"{filing}: new comment{on}",
            f"{who} ({comment.author.get_username()}) commented{on} on {filing}:\n\n{comment.body}",
            f"{link}#comments",
            submission,
        )
    ]


def _newly_broken(event: AuditEvent) -> bool:
    """A break worth telling: the previous check passed, or broke somewhere else."""
    if event.payload.get("intact", True):
        return False
    previous = (
        AuditEvent.objects.filter(action="audit_log.verify", sequence__lt=event.sequence)
        .order_by("-sequence")
        .first()
    )
    if previous is None or previous.payload.get("intact", True):
        return True
    return previous.payload.get("break") != event.payload.get("break")


# --- writes ---------------------------------------------------------------------------------


def notifications_for_event(event: AuditEvent) -> list[Notification]:
    """Create the event's notifications (once each, however often this runs) and enqueue
    their emails. Runs inside the caller's transaction."""
    created: list[Notification] = []
    for message in _messages_for(event):
        recipients = {
            person.pk: person
            for person in message.recipients
            if person is not None and person.pk != event.actor_id
        }
        email_off = set(
            NotificationPreference.objects.filter(
                user_id__in=recipients, kind=message.kind, email=False
            ).values_list("user_id", flat=True)
        )
        for person in recipients.values():
            notification, is_new = Notification.objects.get_or_create(
                recipient=person,
                event=event,
                kind=message.kind,
                defaults={
                    "submission": message.submission,
                    "subject": message.subject[:200],
                    "body": message.body,
                    "link": message.link,
                },
            )
            if not is_new:
                continue
            created.append(notification)
            if person.email and person.pk not in email_off:
                outbox_enqueue(task=EMAIL_TASK, kwargs={"notification_id": notification.pk})
    return created


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification to its recipient; False if there was nothing to send.

    Idempotent: a notification is emailed once (a retry after a sent email does nothing).
    SMTP errors propagate, so the task retries.
    """
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or notification.emailed_at is not None:
        return False
    recipient = notification.recipient
    if not recipient.email:
        return False
    context = {
        "notification": notification,
        "recipient": recipient,
        "link": portal_url(notification.link) if notification.link else "",
        "preferences": portal_url(reverse("notification-preferences")),
    }
    EmailMessage(
        subject=f"[govportal] {notification.subject}",
        body=render_to_string("audits/notifications/email.txt", context),
        to=[recipient.email],
    ).send()
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def notification_mark_read(*, notification: Notification, acting_user: Any) -> Notification:
    """Mark one of the acting user's notifications read (no audit event: it is personal)."""
    if notification.recipient_id != acting_user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, acting_user: Any) -> int:
    return Notification.objects.filter(recipient=acting_user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_preferences_set(*, acting_user: Any, email_kinds: Iterable[str]) -> None:
    """Email on for exactly `email_kinds`, off for every other kind the person receives."""
    wanted = set(email_kinds)
    for kind in notification_kinds_for(acting_user):
        NotificationPreference.objects.update_or_create(
            user=acting_user, kind=kind, defaults={"email": kind in wanted}
        )


def notification_kinds_for(user: Any) -> list[str]:
    """The kinds a person can receive, by organization and role."""
    membership = membership_of(user)
    if membership is None:
        return []
    if membership.organization.is_lab:
        kinds: list[str] = [Kind.CHANGES_REQUESTED, Kind.DECISION, Kind.REPORT_READY, Kind.COMMENT]
        return [*kinds, Kind.KEY_EXPIRING] if membership.is_admin else kinds
    kinds = [Kind.SUBMISSION_RECEIVED, Kind.ASSIGNMENT, Kind.REVIEW_DUE, Kind.COMMENT]
    return [*kinds, Kind.AUDIT_CHAIN_BREAK] if membership.is_admin else kinds


def notification_email_kinds(user: Any) -> set[str]:
    """The kinds `user` gets by email (no row: on)."""
    off = set(
        NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True)
    )
    return set(Kind.values) - off


@transaction.atomic
def api_key_expiry_warnings_record(*, now: Any | None = None) -> int:
    """Record an `api_key.expiry_warning` event (which tells the lab's admins) for every
    live key expiring within the warning window that has not been warned about yet."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.GOVPORTAL_KEY_EXPIRY_WARNING_DAYS)
    expiring = list(
        OrganizationAPIKey.objects.select_related("organization")
        .filter(revoked=False, expiry_date__gt=now, expiry_date__lte=horizon)
        .order_by("expiry_date")
    )
    warned = set(
        AuditEvent.objects.filter(
            action="api_key.expiry_warning",
            object_type="api_key",
            object_id__in=[key.prefix for key in expiring],
        ).values_list("object_id", flat=True)
    )
    count = 0
    for key in expiring:
        if key.prefix in warned:
            continue
        assert key.expiry_date is not None
        audit_event_record(
            actor=None,
            action="api_key.expiry_warning",
            object_type="api_key",
            object_id=key.prefix,
            organization=key.organization,
            payload={"name": key.name, "expires_on": key.expiry_date.date().isoformat()},
        )
        count += 1
    return count


@transaction.atomic
def review_due_reminders_record(*, now: Any | None = None) -> int:
    """Record a `submission.review_due` event (which tells the assignee, or the regulator
    admins when nobody is assigned) once when a review comes within the reminder window of
    its due date, and once more when it is overdue."""
    now = now or timezone.now()
    soon = now + timedelta(days=settings.GOVPORTAL_REVIEW_REMINDER_DAYS)
    awaiting = list(
        Submission.objects.select_related("organization")
        .filter(status__in=("submitted", "under_review"), review_due_at__lte=soon)
        .order_by("review_due_at")
    )
    reminded = set(
        AuditEvent.objects.filter(
            action="submission.review_due",
            object_type="submission",
            object_id__in=[submission.reference for submission in awaiting],
        ).values_list("object_id", "payload__revision", "payload__stage")
    )
    count = 0
    for submission in awaiting:
        assert submission.review_due_at is not None
        stage = "overdue" if submission.review_due_at < now else "soon"
        if (submission.reference, submission.revision, stage) in reminded:
            continue
        audit_event_record(
            actor=None,
            action="submission.review_due",
            object_type="submission",
            object_id=submission.reference,
            organization=submission.organization,
            payload={
                "revision": submission.revision,
                "stage": stage,
                "due_on": submission.review_due_at.date().isoformat(),
            },
        )
        count += 1
    return count
