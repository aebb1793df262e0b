"""Webhooks: a lab's pipeline is told about its filings' events, signed and retried.

A lab admin registers an HTTPS endpoint for some event types. Each matching audit event
becomes one `WebhookDelivery` per endpoint (deduplicated by its message id), sent by its
own task with exponential backoff; every attempt is recorded with its response code.
Messages are signed the Standard Webhooks way: `webhook-signature: v1,<base64 HMAC-SHA256
of "id.timestamp.body">`, with the previous secret's signature beside it for a grace period
after a rotation.

Endpoints must be public: an address that resolves to loopback, private, link-local,
multicast, reserved or cloud-metadata space is refused at registration and again at every
delivery, which connects to the very address it checked and follows no redirect.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from audits.errors import ServiceError
from audits.models import (
    AuditEvent,
    Organization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from audits.roles import ensure, may_manage_webhooks
from audits.services.audit_log import audit_event_record
from audits.services.notifications import portal_url
from audits.services.outbox import outbox_enqueue

DELIVER_TASK = "audits.webhook_deliver"
TEST_EVENT = "webhook.test"
# The event types a lab may subscribe to, and the audit actions that raise them.
EVENT_TYPES: dict[str, str] = {
    "submission.assessed": "A submitted revision was assessed (tier and score).",
    "submission.changes_requested": "The regulator requested changes.",
    "submission.decided": "The regulator accepted or rejected the filing.",
    "report.ready": "A transparency audit report is ready to download.",
}
ACTION_EVENT_TYPES: dict[str, str] = {
    "assessment.run": "submission.assessed",
    "submission.request_changes": "submission.changes_requested",
    "submission.accept": "submission.decided",
    "submission.reject": "submission.decided",
    "report.issue": "report.ready",
}
MAX_ENDPOINTS_PER_LAB = 20
Status = WebhookDelivery.Status

# Addresses that answer for cloud instance metadata (AWS/GCP/Azure, AWS IPv6, Alibaba, Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)


class UnsafeTarget(ServiceError):
    """The endpoint's address is not one the portal may send to."""


# --- addresses ------------------------------------------------------------------------------


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the portal must not connect to `address`, or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified or address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "an address that is not publicly routable"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def target_address(url: str) -> str:
    """The one address a delivery to `url` connects to, after checking every address the
    name resolves to; raises UnsafeTarget naming the problem."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = _resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as error:
        raise UnsafeTarget(
            f"The host {host!r} of {url} does not resolve ({error}).", details={"field": "url"}
        ) from None
    if not addresses:
        raise UnsafeTarget(f"The host {host!r} of {url} has no address.", details={"field": "url"})
    if settings.GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS:
        return addresses[0]
    for address in addresses:
        reason = address_refusal(ipaddress.ip_address(address.split("%")[0]))
        if reason:
            raise UnsafeTarget(
                f"{url} resolves to {address}, {reason}; webhooks go to public HTTPS "
                "addresses only.",
                details={"field": "url"},
            )
    return addresses[0]


def webhook_url_check(url: str) -> str:
    """The URL, trimmed, if the portal may register it; ServiceError naming the problem."""
    url = url.strip()
    parts = urlsplit(url)
    allowed_schemes = (
        ("https", "http") if settings.GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS else ("https",)
    )
    if parts.scheme not in allowed_schemes:
        raise ServiceError(
            f"A webhook endpoint is an https:// address, not {url!r}.", details={"field": "url"}
        )
    if not parts.hostname:
        raise ServiceError(f"{url!r} names no host.", details={"field": "url"})
    if parts.username or parts.password:
        raise ServiceError(
            "Put no user name or password in the endpoint's address; verify the signature instead.",
            details={"field": "url"},
        )
    if len(url) > 500:
        raise ServiceError(
            "An endpoint's address has at most 500 characters.", details={"field": "url"}
        )
    target_address(url)
    return url


def _event_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown or not chosen:
        raise ServiceError(
            f"Choose event types among {', '.join(EVENT_TYPES)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            details={"field": "event_types"},
        )
    return chosen


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- endpoints ------------------------------------------------------------------------------


def _record(endpoint: WebhookEndpoint, acting_user: Any, action: str, **payload: Any) -> None:
    audit_event_record(
        actor=acting_user,
        action=action,
        object_type="webhook_endpoint",
        object_id=endpoint.pk,
        organization=endpoint.organization,
        payload={"url": endpoint.url, **payload},
    )


def _locked(endpoint: WebhookEndpoint, acting_user: Any) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .select_related("organization")
        .get(pk=endpoint.pk, disabled_at__isnull=True)
    )
    _require_manager(acting_user, endpoint.organization)
    return endpoint


def _require_manager(acting_user: Any, organization: Organization) -> None:
    ensure(
        may_manage_webhooks(acting_user, organization),
        f"Only an admin of {organization.name} manages its webhooks.",
    )


@transaction.atomic
def webhook_endpoint_create(
    *,
    organization: Organization,
    acting_user: Any,
    url: str,
    event_types: Iterable[str],
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown to the admin once)."""
    _require_manager(acting_user, organization)
    url = webhook_url_check(url)
    chosen = _event_types(event_types)
    active = WebhookEndpoint.objects.filter(organization=organization, disabled_at__isnull=True)
    if active.filter(url=url).exists():
        raise ServiceError(f"{url} is already registered.", details={"field": "url"})
    if active.count() >= MAX_ENDPOINTS_PER_LAB:
        raise ServiceError(f"A lab has at most {MAX_ENDPOINTS_PER_LAB} endpoints.")
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        description=description.strip()[:200],
        event_types=chosen,
        secret=secret,
        created_by=acting_user,
    )
    _record(endpoint, acting_user, "webhook.create", event_types=chosen)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    acting_user: Any,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    endpoint = _locked(endpoint, acting_user)
    fields: list[str] = []
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = webhook_url_check(url)
        if (
            WebhookEndpoint.objects.filter(
                organization=endpoint.organization, url=endpoint.url, disabled_at__isnull=True
            )
            .exclude(pk=endpoint.pk)
            .exists()
        ):
            raise ServiceError(f"{endpoint.url} is already registered.", details={"field": "url"})
        fields.append("url")
    if event_types is not None:
        endpoint.event_types = _event_types(event_types)
        fields.append("event_types")
    if description is not None:
        endpoint.description = description.strip()[:200]
        fields.append("description")
    if fields:
        endpoint.save(update_fields=fields)
        _record(
            endpoint,
            acting_user,
            "webhook.update",
            changed=fields,
            event_types=endpoint.event_types,
        )
    return endpoint


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, acting_user: Any) -> WebhookEndpoint:
    """Stop sending to an endpoint (its deliveries stay on record)."""
    endpoint = _locked(endpoint, acting_user)
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["disabled_at"])
    _record(endpoint, acting_user, "webhook.disable")
    return endpoint


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, acting_user: Any
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret; the previous one keeps signing beside it for the grace period."""
    endpoint = _locked(endpoint, acting_user)
    grace = timedelta(hours=settings.GOVPORTAL_WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + grace
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    _record(
        endpoint,
        acting_user,
        "webhook.rotate_secret",
        previous_valid_until=endpoint.previous_secret_expires_at.isoformat(),
    )
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, acting_user: Any) -> WebhookDelivery:
    """Send a `webhook.test` message now, recorded like any other delivery."""
    endpoint = _locked(endpoint, acting_user)
    message_id = f"msg_test_{secrets.token_hex(12)}"
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=message_id,
        event_type=TEST_EVENT,
        payload=_payload(
            message_id,
            TEST_EVENT,
            timezone.now(),
            {"organization": endpoint.organization.name, "message": "A test event from govportal."},
        ),
    )
    _record(endpoint, acting_user, "webhook.test", message_id=message_id)
    outbox_enqueue(task=DELIVER_TASK, kwargs={"delivery_id": delivery.pk})
    return delivery


# --- deliveries -----------------------------------------------------------------------------


def _payload(
    message_id: str, event_type: str, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def _event_data(event: AuditEvent, event_type: str) -> dict[str, Any]:
    reference = event.object_id
    submission_url = portal_url(
        reverse("api-v1:submission-detail", kwargs={"reference": reference})
    )
    payload = event.payload
    data: dict[str, Any] = {"reference": reference, "url": submission_url}
    if event_type == "submission.assessed":
        data.update(
            revision=payload.get("revision"),
            tier=payload.get("tier"),
            overall_score=payload.get("overall_score"),
            rubric=payload.get("rubric"),
            assessment_url=portal_url(
                reverse("api-v1:assessment", kwargs={"reference": reference})
            ),
        )
    elif event_type in ("submission.changes_requested", "submission.decided"):
        data.update(
            status=payload.get("status"),
            revision=payload.get("revision"),
            rationale=payload.get("rationale"),
        )
    elif event_type == "report.ready":
        kwargs = {"reference": reference, "version": payload.get("version")}
        data.update(
            url=portal_url(reverse("api-v1:report-detail", kwargs=kwargs)),
            submission_url=submission_url,
            version=payload.get("version"),
            kind=payload.get("kind"),
            revision=payload.get("revision"),
            sha256=payload.get("sha256"),
            pdf_url=portal_url(reverse("api-v1:report-pdf", kwargs=kwargs)),
        )
    return data


def webhook_deliveries_for_event(event: AuditEvent) -> list[WebhookDelivery]:
    """One delivery per subscribed endpoint of the event's lab (once, however often this
    runs), each enqueued. Runs inside the caller's transaction."""
    event_type = ACTION_EVENT_TYPES.get(event.action)
    if event_type is None or event.organization_id is None or event.object_type != "submission":
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id=event.organization_id, disabled_at__isnull=True
        )
        if event_type in endpoint.event_types
    ]
    if not endpoints:
        return []
    # The event's hash is unique and opaque: the same id on every attempt and endpoint.
    message_id = f"msg_{event.hash[:32]}"
    payload = _payload(message_id, event_type, event.created_at, _event_data(event, event_type))
    created = []
    for endpoint in endpoints:
        delivery, is_new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            message_id=message_id,
            defaults={"event_type": event_type, "event": event, "payload": payload},
        )
        if is_new:
            created.append(delivery)
            outbox_enqueue(task=DELIVER_TASK, kwargs={"delivery_id": delivery.pk})
    return created


def webhook_signatures(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: the current secret's, and the previous one's while
    its grace period lasts."""
    secrets_in_force = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        secrets_in_force.append(endpoint.previous_secret)
    return " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body)
        for secret in secrets_in_force
    )


@dataclass(frozen=True)
class AttemptOutcome:
    response_status: int | None
    error: str
    duration_ms: int


def _post(url: str, body: bytes, headers: dict[str, str]) -> AttemptOutcome:
    """POST to `url` at the address it was checked to resolve to; no redirects."""
    started = time.monotonic()
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = target_address(url)
        timeout = urllib3.Timeout(total=settings.GOVPORTAL_WEBHOOK_TIMEOUT_SECONDS)
        pool: urllib3.HTTPConnectionPool
        if parts.scheme == "https":
            # Connect to the checked address; certificate and SNI still name the host.
            pool = urllib3.HTTPSConnectionPool(
                address,
                parts.port or 443,
                timeout=timeout,
                retries=False,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                address, parts.port or 80, timeout=timeout, retries=False
            )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with pool:
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers={**headers, "Host": parts.netloc},
                redirect=False,
                retries=False,
                preload_content=False,
            )
            response.drain_conn()
            status = response.status
        return AttemptOutcome(status, "", int((time.monotonic() - started) * 1000))
    except UnsafeTarget as refusal:
        return AttemptOutcome(None, f"refused: {refusal.message}", 0)
    except urllib3.exceptions.HTTPError as error:
        return AttemptOutcome(
            None, f"{type(error).__name__}: {error}"[:500], int((time.monotonic() - started) * 1000)
        )


def webhook_retry_delay(attempt: int) -> int:
    """Seconds before the attempt after `attempt`: exponential, capped at six hours."""
    return int(min(settings.GOVPORTAL_WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempt - 1), 6 * 3600))


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """Make the next attempt at a pending delivery and record it. Idempotent: a delivered or
    given-up delivery is returned as it is. Still pending afterwards: retry later."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if delivery.status != Status.PENDING:
        return delivery
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED)
        delivery.status = Status.FAILED
        return delivery
    attempted_at = timezone.now()
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "govportal-webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(attempted_at.timestamp())),
        "webhook-signature": webhook_signatures(endpoint, delivery.message_id, attempted_at, body),
    }
    outcome = _post(endpoint.url, body.encode(), headers)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        number = delivery.attempt_count + 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=attempted_at,
            response_status=outcome.response_status,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        delivery.attempt_count = number
        succeeded = outcome.response_status is not None and 200 <= outcome.response_status < 300
        if succeeded:
            delivery.status = Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
        elif number >= settings.GOVPORTAL_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = Status.FAILED
        delivery.save(update_fields=["attempt_count", "status", "delivered_at"])
    return delivery
