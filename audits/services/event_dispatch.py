"""One committed audit event, told to whoever follows it: people and lab pipelines.

Called by the `audits.event_dispatch` task, which the outbox hands every event whose action
is in `audits.events.DISPATCHED_ACTIONS`. Notifications and deliveries are created once per
event however often this runs, and each is sent by its own retried task.
"""

from __future__ import annotations

from django.db import transaction

from audits.models import AuditEvent
from audits.services.notifications import notifications_for_event
from audits.services.webhooks import webhook_deliveries_for_event


@transaction.atomic
def audit_event_dispatch(*, event_id: int) -> dict[str, int]:
    """Create the event's notifications and webhook deliveries; how many were new."""
    event = AuditEvent.objects.select_related("actor", "organization").get(pk=event_id)
    notifications = notifications_for_event(event)
    deliveries = webhook_deliveries_for_event(event)
    return {"notifications": len(notifications), "deliveries": len(deliveries)}
