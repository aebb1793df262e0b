"""The hash-chained audit log: append inside the caller's transaction, verify the chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from audits.canonical import sha256_hex
from audits.events import DISPATCHED_ACTIONS, EVENT_DISPATCH_TASK
from audits.models import AuditChainHead, AuditEvent, Organization
from audits.services.outbox import outbox_enqueue

GENESIS_HASH = "0" * 64


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 over the canonical serialization of everything the event asserts."""
    return sha256_hex(
        {
            "sequence": event.sequence,
            "created_at": event.created_at.isoformat(),
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "organization_id": event.organization_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "payload": event.payload,
            "prev_hash": event.prev_hash,
        }
    )


def audit_event_record(
    *,
    actor: Any | None,
    action: str,
    object_type: str,
    object_id: str | int,
    organization: Organization | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the chain. Must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events are written inside the transaction of their change")
    # The head row serializes writers, so two transactions can never fork the chain.
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        sequence=head.last_sequence + 1,
        created_at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username()
        if actor is not None and actor.is_authenticated
        else "system",
        organization=organization,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=payload or {},
        prev_hash=head.last_hash,
    )
    event.hash = audit_event_hash(event)
    event.save(force_insert=True)
    head.last_sequence = event.sequence
    head.last_hash = event.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    if action in DISPATCHED_ACTIONS:
        outbox_enqueue(task=EVENT_DISPATCH_TASK, kwargs={"event_id": event.pk})
    return event


def submission_event_record(
    *, submission: Any, acting_user: Any | None, action: str, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """An audit event about one filing: named by its reference, in its lab's records."""
    return audit_event_record(
        actor=acting_user,
        action=action,
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload=payload,
    )


@dataclass(frozen=True)
class ChainBreak:
    sequence: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = (
            f"event #{self.sequence} (id {self.event_id})" if self.sequence else "the chain's end"
        )
        return f"{where}: {self.reason}"


def _events_in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("sequence", "id").iterator(chunk_size=2000)


def audit_chain_verify() -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; return the events verified and the first break, if any."""
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in _events_in_order():
        if event.sequence != expected_sequence:
            reason = (
                f"expected sequence {expected_sequence}, found {event.sequence}: "
                "an event is missing or out of order"
            )
            return count, ChainBreak(event.sequence, event.pk, reason)
        if event.prev_hash != prev_hash:
            return count, ChainBreak(
                event.sequence, event.pk, "its prev_hash does not match the previous event's hash"
            )
        if audit_event_hash(event) != event.hash:
            return count, ChainBreak(
                event.sequence,
                event.pk,
                "its content does not match its hash (the row was altered)",
            )
        prev_hash = event.hash
        expected_sequence += 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_sequence = head.last_sequence if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_sequence != count or head_hash != prev_hash:
        reason = (
            f"the chain head records {head_sequence} events ending in {head_hash[:12]}…, "
            f"but {count} verified events end in {prev_hash[:12]}… "
            "(events were removed from the end)"
        )
        return count, ChainBreak(None, None, reason)
    return count, None


@transaction.atomic
def audit_chain_verify_and_record() -> dict[str, object]:
    """Verify the chain and append the outcome to it, so checks themselves leave a trace."""
    count, chain_break = audit_chain_verify()
    outcome: dict[str, object] = {"verified_events": count, "intact": chain_break is None}
    if chain_break is not None:
        outcome["break"] = str(chain_break)
    audit_event_record(
        actor=None,
        action="audit_log.verify",
        object_type="audit_log",
        object_id="chain",
        payload=outcome,
    )
    return outcome
