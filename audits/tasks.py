"""Celery tasks: thin wrappers that take ids, call a service and own their retry policy."""

import smtplib

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from audits.services.assessment import (
    RESCORE_TRANSIENT_ERRORS,
    rubric_publication_plan,
    rubric_publication_rescore_chunk,
)
from audits.services.audit_log import audit_chain_anchor, audit_chain_verify_and_record
from audits.services.event_dispatch import audit_event_dispatch
from audits.services.notifications import (
    api_key_expiry_warnings_record,
    notification_email_send,
    review_due_reminders_record,
)
from audits.services.outbox import outbox_relay
from audits.services.reports import TRANSIENT_ERRORS, report_render
from audits.services.webhooks import webhook_delivery_attempt, webhook_retry_delay


@shared_task(name="audits.audit_chain_verify", acks_late=True)
def audit_chain_verify_task() -> dict[str, object]:
    """Verify the audit chain and record the outcome as an audit event (on a beat schedule)."""
    return audit_chain_verify_and_record()


@shared_task(name="audits.audit_chain_anchor", acks_late=True, ignore_result=True)
def audit_chain_anchor_task() -> int | None:
    """Write the chain's signed head to the file storage (on a beat schedule)."""
    anchor = audit_chain_anchor()
    return anchor.sequence if anchor else None


@shared_task(name="audits.outbox_sweep", ignore_result=True)
def outbox_sweep_task() -> int:
    """Hand over outbox messages left unsent (the broker was down, a process died)."""
    return outbox_relay()


@shared_task(
    name="audits.report_render",
    # Acknowledged only once done, and put back if the worker dies mid-render, so a lost
    # worker delays a report but never loses it; the service's attempt count bounds loops.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=4,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    # A demo report renders in about a second; a minute is generous, two is the hard stop.
    soft_time_limit=60,
    time_limit=120,
)
def report_render_task(report_id: int) -> str:
    """Render report `report_id` (idempotent: a ready report is left as it is)."""
    return str(report_render(report_id=report_id).status)


@shared_task(
    name="audits.event_dispatch",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=5,
    retry_backoff=2,
    retry_jitter=True,
)
def event_dispatch_task(event_id: int) -> dict[str, int]:
    """Turn a committed audit event into notifications and webhook deliveries (idempotent)."""
    return audit_event_dispatch(event_id=event_id)


@shared_task(
    name="audits.notification_email",
    acks_late=True,
    # The mail server refused or was unreachable: try again, more slowly each time.
    autoretry_for=(smtplib.SMTPException, OSError),
    max_retries=6,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
)
def notification_email_task(notification_id: int) -> bool:
    """Email one notification (idempotent: one email per notification)."""
    return notification_email_send(notification_id=notification_id)


@shared_task(name="audits.webhook_deliver", bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self: Task, delivery_id: int) -> str:
    """One attempt at a webhook delivery; still pending afterwards, the next one is scheduled
    with exponential backoff (the service gives up after the configured attempts)."""
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    if self.request.is_eager:
        # No broker to hold a delayed retry (the embedded mode): the attempts follow at once.
        while delivery.status == delivery.Status.PENDING:
            delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    elif delivery.status == delivery.Status.PENDING:
        raise self.retry(countdown=webhook_retry_delay(delivery.attempt_count))
    return str(delivery.status)


@shared_task(name="audits.review_due_reminders", ignore_result=True)
def review_due_reminders_task() -> int:
    """Remind assignees of reviews due soon or overdue (on the beat schedule)."""
    return review_due_reminders_record()


@shared_task(name="audits.api_key_expiry_warnings", ignore_result=True)
def api_key_expiry_warnings_task() -> int:
    """Warn lab admins of keys about to expire (daily, on the beat schedule)."""
    return api_key_expiry_warnings_record()


@shared_task(
    name="audits.rubric_rescore_plan",
    acks_late=True,
    autoretry_for=RESCORE_TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_jitter=True,
)
def rubric_rescore_plan_task(publication_id: int) -> int:
    """Count a publication's filings and enqueue their chunks (once); the total."""
    return rubric_publication_plan(publication_id=publication_id).total


@shared_task(
    name="audits.rubric_rescore_chunk",
    # Put back if the worker dies: filings done before are skipped on the second run.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RESCORE_TRANSIENT_ERRORS,
    max_retries=8,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    # A chunk of 100 filings takes about a second; the limits only stop a runaway.
    soft_time_limit=180,
    time_limit=240,
)
def rubric_rescore_chunk_task(publication_id: int, submission_ids: list[int]) -> int:
    """Re-score one chunk of a publication's filings; the filings still to do after it."""
    publication = rubric_publication_rescore_chunk(
        publication_id=publication_id, submission_ids=submission_ids
    )
    return publication.total - publication.finished_count
