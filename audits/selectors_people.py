"""Reads for the audit trail, webhooks and notifications (beside audits/selectors.py),
scoped to what the acting user may see and costing the same queries whatever they list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from audits.events import LAB_VISIBLE_ACTIONS
from audits.models import AuditEvent, Notification, WebhookDelivery, WebhookEndpoint
from audits.roles import ensure, may_read_audit_trail, may_read_webhooks, require_membership


@dataclass(frozen=True)
class AuditTrailFilters:
    actor: str = ""
    action: str = ""
    reference: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_trail(*, user: Any, filters: AuditTrailFilters) -> QuerySet[AuditEvent]:
    """The audit events `user` may read, newest first: a regulator every event; a lab admin
    their own organization's, of the actions labs see (NotPermitted for anyone else)."""
    membership = require_membership(user)
    events = AuditEvent.objects.select_related("organization").order_by("-sequence")
    ensure(may_read_audit_trail(user), "Only regulators and lab admins read the audit trail.")
    if membership.organization.is_lab:
        events = events.filter(
            organization_id=membership.organization_id, action__in=LAB_VISIBLE_ACTIONS
        )
    if filters.actor:
        events = events.filter(actor_label=filters.actor.strip())
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.reference:
        events = events.filter(object_type="submission", object_id=filters.reference.strip())
    if filters.date_from:
        start = datetime.combine(
            filters.date_from, time.min, tzinfo=timezone.get_current_timezone()
        )
        events = events.filter(created_at__gte=start)
    if filters.date_to:
        end = datetime.combine(filters.date_to, time.max, tzinfo=timezone.get_current_timezone())
        events = events.filter(created_at__lte=end)
    return events


def audit_chain_last_check() -> AuditEvent | None:
    """The latest recorded verification of the chain (see audit_chain_verify_and_record)."""
    return AuditEvent.objects.filter(action="audit_log.verify").order_by("-sequence").first()


def webhook_endpoints(*, user: Any) -> QuerySet[WebhookEndpoint]:
    """The active endpoints of the acting user's organization (callers check the role)."""
    membership = require_membership(user)
    return (
        WebhookEndpoint.objects.filter(
            organization_id=membership.organization_id, disabled_at__isnull=True
        )
        .select_related("organization", "created_by")
        .order_by("created_at", "id")
    )


def webhook_endpoint_get(*, user: Any, pk: int | str) -> WebhookEndpoint:
    """An active endpoint of the acting user's lab, for its members (DoesNotExist for
    anyone else's or a malformed id, NotPermitted for a regulator)."""
    if not str(pk).isdigit():
        raise WebhookEndpoint.DoesNotExist(f"No webhook endpoint {pk!r}.")
    endpoint = webhook_endpoints(user=user).get(pk=int(pk))
    ensure(
        may_read_webhooks(user, endpoint.organization),
        f"Only members of {endpoint.organization.name} see its webhooks.",
    )
    return endpoint


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related("attempts")
        .order_by("-created_at", "-id")
    )


def notifications_of(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient_id=user.pk).select_related("submission")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications
