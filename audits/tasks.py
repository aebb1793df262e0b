"""Celery tasks: thin wrappers that take ids, call a service and own their retry policy."""

from celery import shared_task

from audits.services.audit_log import audit_chain_anchor, audit_chain_verify_and_record
from audits.services.outbox import outbox_relay
from audits.services.reports import TRANSIENT_ERRORS, report_render


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
