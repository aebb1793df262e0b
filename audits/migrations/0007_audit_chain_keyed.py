"""The audit chain's hashes become HMACs under AUDIT_CHAIN_KEY.

The unkeyed chain is verified first: a chain that does not verify is not re-signed (that
would launder whatever broke it), and the migration stops naming the first bad event.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64


def _canonical(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _content(event, prev_hash):
    return {
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organization_id": event.organization_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "payload": event.payload,
        "prev_hash": prev_hash,
    }


def sign_the_chain(apps, schema_editor):
    AuditEvent = apps.get_model("audits", "AuditEvent")
    AuditChainHead = apps.get_model("audits", "AuditChainHead")
    old_previous = new_previous = GENESIS_HASH
    events = list(AuditEvent.objects.order_by("sequence"))
    for expected, event in enumerate(events, start=1):
        unkeyed = hashlib.sha256(_canonical(_content(event, old_previous))).hexdigest()
        if (
            event.sequence != expected
            or event.prev_hash != old_previous
            or event.hash != unkeyed
        ):
            raise RuntimeError(
                f"the audit chain does not verify at event #{event.sequence}; investigate "
                "(manage.py verify_audit_log on the previous release) before migrating"
            )
        old_previous = event.hash
        keyed = hmac.new(
            settings.AUDIT_CHAIN_KEY, _canonical(_content(event, new_previous)), hashlib.sha256
        ).hexdigest()
        event.prev_hash, event.hash = new_previous, keyed
        new_previous = keyed
    # Two passes: hashes are unique, and a new hash may equal none of the old ones.
    for event in events:
        AuditEvent.objects.filter(pk=event.pk).update(hash=f"resigning-{event.pk}")
    for event in events:
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
    AuditChainHead.objects.filter(pk=1).update(last_hash=new_previous)


class Migration(migrations.Migration):
    dependencies = [("audits", "0006_submission_declaration")]

    operations = [migrations.RunPython(sign_the_chain, migrations.RunPython.noop)]
