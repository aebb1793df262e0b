import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audits.canonical import sha256_hex
from audits.models import AuditChainHead, AuditEvent
from audits.services.audit_log import audit_chain_verify, audit_event_record
from audits.services.submissions import (
    submission_request_changes,
    submission_start_review,
    submission_submit,
)


@pytest.fixture
def chain(draft, lab_member, reviewer):
    submission = submission_submit(submission=draft, acting_user=lab_member, accuracy_declared=True)
    submission = submission_start_review(submission=submission, acting_user=reviewer)
    submission = submission_request_changes(
        submission=submission, acting_user=reviewer, rationale="More"
    )
    submission_submit(submission=submission, acting_user=lab_member, accuracy_declared=True)
    events = list(AuditEvent.objects.order_by("sequence"))
    assert len(events) >= 8  # rubric load, filing, attach, submit, assessment, review...
    return events


def _verify_fails_at(sequence_fragment):
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log")
    assert sequence_fragment in str(failure.value)
    return str(failure.value)


def test_an_intact_chain_verifies(chain, capsys):
    call_command("verify_audit_log")
    assert f"{len(chain)} events" in capsys.readouterr().out
    assert audit_chain_verify() == (len(chain), None)


def test_each_event_links_to_the_previous_hash(chain):
    for previous, event in itertools.pairwise(chain):
        assert event.prev_hash == previous.hash
        assert event.sequence == previous.sequence + 1


def test_a_tampered_row_is_named(chain):
    target = chain[2]
    AuditEvent.objects.filter(pk=target.pk).update(payload={"status": "accepted"})
    message = _verify_fails_at(f"event #{target.sequence}")
    assert "altered" in message


def test_a_tampered_row_with_a_recomputed_hash_breaks_the_next_link(chain):
    target = chain[1]
    target.action = "submission.accept"
    from audits.services.audit_log import audit_event_hash

    AuditEvent.objects.filter(pk=target.pk).update(
        action=target.action, hash=audit_event_hash(target)
    )
    _verify_fails_at(f"event #{target.sequence + 1}")


def test_a_deleted_row_is_named(chain):
    AuditEvent.objects.filter(pk=chain[1].pk).delete()
    message = _verify_fails_at(f"event #{chain[2].sequence}")
    assert "missing or out of order" in message


def test_a_deleted_last_row_is_caught_by_the_head(chain):
    AuditEvent.objects.filter(pk=chain[-1].pk).delete()
    assert "removed from the end" in _verify_fails_at("chain's end")


def test_reordered_rows_are_caught(chain):
    first, second = chain[1], chain[2]
    # Swap the sequence numbers of two events (through a free number, the column is unique).
    AuditEvent.objects.filter(pk=first.pk).update(sequence=10_000)
    AuditEvent.objects.filter(pk=second.pk).update(sequence=first.sequence)
    AuditEvent.objects.filter(pk=first.pk).update(sequence=second.sequence)
    _verify_fails_at(f"event #{first.sequence}")


def test_events_need_a_transaction():
    with pytest.raises(RuntimeError):
        audit_event_record(actor=None, action="x", object_type="y", object_id="z")


@pytest.mark.django_db(transaction=True)
def test_an_event_rolls_back_with_its_change():
    before = AuditEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_event_record(actor=None, action="x", object_type="y", object_id="z")
        1 / 0  # noqa: B018
    assert AuditEvent.objects.count() == before
    assert audit_chain_verify() == (before, None)


def test_hash_covers_canonical_content(chain):
    event = chain[0]
    assert event.hash != sha256_hex({"anything": "else"})
    assert len(event.hash) == 64


def _rewrite_chain_with(hash_of):
    """What someone with write access to the database can do: recompute every hash (after
    editing a row) and the head, with `hash_of`."""
    events = list(AuditEvent.objects.order_by("sequence"))
    for event in events:  # hashes are unique: free them first
        AuditEvent.objects.filter(pk=event.pk).update(hash=f"rewriting-{event.pk}")
    previous = "0" * 64
    for event in events:
        event.prev_hash = previous
        event.hash = hash_of(event)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=previous, hash=event.hash)
        previous = event.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=previous)


def test_a_chain_recomputed_without_the_key_does_not_verify(chain, settings):
    from audits.services.audit_log import audit_event_hash

    AuditEvent.objects.filter(pk=chain[2].pk).update(payload={"status": "accepted"})
    real_key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = b"an attacker's guess at the key, long enough"
    _rewrite_chain_with(audit_event_hash)
    settings.AUDIT_CHAIN_KEY = real_key
    message = _verify_fails_at("event #1")
    assert "without the audit key" in message


def test_removing_the_newest_events_and_rewinding_the_head_is_caught_by_the_anchor(chain):
    from audits.services.audit_log import audit_chain_anchor

    anchor = audit_chain_anchor()
    assert anchor.sequence == chain[-1].sequence
    kept = chain[:-3]
    AuditEvent.objects.filter(sequence__gt=kept[-1].sequence).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_sequence=kept[-1].sequence, last_hash=kept[-1].hash
    )
    message = _verify_fails_at(f"#{anchor.sequence}")
    assert "which the log no longer has" in message


def test_an_anchor_not_signed_with_the_key_is_refused(chain, settings):
    from audits.services.audit_log import audit_chain_anchor

    real_key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = b"an attacker's guess at the key, long enough"
    audit_chain_anchor()
    settings.AUDIT_CHAIN_KEY = real_key
    assert "not signed with the audit key" in _verify_fails_at("anchor")


def test_the_migration_signs_an_intact_unkeyed_chain_and_refuses_a_broken_one(chain):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("audits.migrations.0007_audit_chain_keyed")
    unkeyed = lambda event: sha256_hex(  # noqa: E731
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
    _rewrite_chain_with(unkeyed)  # the chain as the previous release wrote it
    assert audit_chain_verify()[1] is not None
    migration.sign_the_chain(apps, None)
    assert audit_chain_verify() == (len(chain), None)

    _rewrite_chain_with(unkeyed)
    AuditEvent.objects.filter(pk=chain[3].pk).update(action="submission.accept")
    with pytest.raises(RuntimeError, match=f"event #{chain[3].sequence}"):
        migration.sign_the_chain(apps, None)
