"""Celery tasks: thin wrappers that take ids, call a service and own their retry policy."""

from celery import shared_task

from audits.services.audit_log import audit_chain_verify_and_record


@shared_task(name="audits.audit_chain_verify", acks_late=True)
def audit_chain_verify_task() -> dict[str, object]:
    """Verify the audit chain and record the outcome as an audit event (run it on a schedule)."""
    return audit_chain_verify_and_record()
