"""The hash-chained audit log: append inside the caller's transaction, verify the chain.

Each event's hash is an HMAC-SHA256, under a key kept outside the database (the
AUDIT_CHAIN_KEY setting), of everything the event asserts and the previous event's hash.
Someone who can write to the database but does not hold the key cannot recompute the chain
after editing a row. Anchors, written periodically to the file storage (outside the
database too), hold a signed copy of the chain's head: deleting the newest events and
rewinding the head row is caught against the newest anchor. docs/security.md has the
threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from audits.canonical import canonical_json
from audits.events import DISPATCHED_ACTIONS, EVENT_DISPATCH_TASK
from audits.models import AuditChainHead, AuditEvent, Organization
from audits.services.outbox import outbox_enqueue

GENESIS_HASH = "0" * 64
ANCHOR_DIRECTORY = "audit-anchors"


def _keyed(value: Any) -> str:
    return hmac.new(settings.AUDIT_CHAIN_KEY, canonical_json(value), hashlib.sha256).hexdigest()


def audit_event_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 (under AUDIT_CHAIN_KEY) of everything the event asserts."""
    return _keyed(
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


@transaction.atomic
def download_record(
    *, submission: Any, acting_user: Any, what: str, file_name: str, sha256: str
) -> AuditEvent:
    """Who took a copy of which file of a filing (`what`: "evidence" or "report")."""
    return submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action=f"{what}.download",
        payload={"file": file_name, "sha256": sha256},
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
    """Walk the chain from the start; return the events verified and the first break, if any.

    Each event must follow the previous one, link to its hash and carry the keyed hash of
    its own content; the head row must match the last event; and the newest anchor in the
    file storage must still be part of the chain.
    """
    anchor = audit_anchor_latest()
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
        if not hmac.compare_digest(audit_event_hash(event), event.hash):
            return count, ChainBreak(
                event.sequence,
                event.pk,
                "its content does not match its keyed hash (the row was altered, or its hash "
                "was recomputed without the audit key)",
            )
        if anchor is not None and event.sequence == anchor.sequence:
            anchored = _anchor_break(anchor, event.hash)
            if anchored is not None:
                return count, anchored
        prev_hash = event.hash
        expected_sequence += 1
        count += 1
    if anchor is not None and count < anchor.sequence:
        return count, _anchor_break(anchor, None)
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


@dataclass(frozen=True)
class Anchor:
    """A signed copy of the chain's head, kept outside the database."""

    sequence: int
    hash: str
    anchored_at: str
    signature: str

    @property
    def name(self) -> str:
        return f"{ANCHOR_DIRECTORY}/{self.sequence:012d}.json"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "hash": self.hash,
            "anchored_at": self.anchored_at,
            "signature": self.signature,
        }


def _anchor_signature(sequence: int, head_hash: str, anchored_at: str) -> str:
    return _keyed({"anchor": sequence, "hash": head_hash, "anchored_at": anchored_at})


def audit_chain_anchor() -> Anchor | None:
    """Write the chain's current head, signed, to the file storage; None for an empty chain.

    Run on a schedule (the beat entry "audit-chain-anchor") and whenever a final report is
    issued, so that a report also names the newest anchored state of the log.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.last_sequence == 0:
        return None
    anchored_at = timezone.now().isoformat()
    anchor = Anchor(
        sequence=head.last_sequence,
        hash=head.last_hash,
        anchored_at=anchored_at,
        signature=_anchor_signature(head.last_sequence, head.last_hash, anchored_at),
    )
    if not default_storage.exists(anchor.name):
        default_storage.save(anchor.name, ContentFile(json.dumps(anchor.as_dict()).encode()))
    return anchor


def audit_anchor_latest() -> Anchor | None:
    """The newest anchor in the file storage (not checked here; see audit_chain_verify)."""
    try:
        _, names = default_storage.listdir(ANCHOR_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    newest = max((name for name in names if name.endswith(".json")), default=None)
    if newest is None:
        return None
    with default_storage.open(f"{ANCHOR_DIRECTORY}/{newest}") as handle:
        raw = json.loads(handle.read())
    return Anchor(
        sequence=int(raw["sequence"]),
        hash=str(raw["hash"]),
        anchored_at=str(raw["anchored_at"]),
        signature=str(raw["signature"]),
    )


def _anchor_break(anchor: Anchor, event_hash: str | None) -> ChainBreak | None:
    """Why `anchor` disagrees with the event the chain has at its sequence (None: it agrees)."""
    expected = _anchor_signature(anchor.sequence, anchor.hash, anchor.anchored_at)
    if not hmac.compare_digest(expected, anchor.signature):
        return ChainBreak(None, None, f"the anchor {anchor.name} is not signed with the audit key")
    if event_hash != anchor.hash:
        return ChainBreak(
            anchor.sequence,
            None,
            f"the anchor of {anchor.anchored_at} holds event #{anchor.sequence} with hash "
            f"{anchor.hash[:12]}…, which the log no longer has (events were removed or "
            "rewritten after it was anchored)",
        )
    return None


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
