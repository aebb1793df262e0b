"""Webhooks delivered to a real HTTP receiver on loopback: signed, retried, deduplicated,
recorded; non-public addresses refused at registration and at delivery."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from audits.errors import NotPermitted, ServiceError
from audits.models import AuditEvent, WebhookDelivery
from audits.services import submissions as lifecycle
from audits.services import webhooks
from audits.services.event_dispatch import audit_event_dispatch
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(webhooks.EVENT_TYPES)


def register(lab, lab_admin, url, events=ALL_EVENTS):
    return webhooks.webhook_endpoint_create(
        organization=lab, acting_user=lab_admin, url=url, event_types=events
    )


def verified(secret, received):
    """The body as the receiver's Standard Webhooks library reads it (raises if forged)."""
    return Webhook(secret).verify(received.body, received.headers)


def decide(lab_member, reviewer, committed, decision="accept"):
    submission = make_draft(lab_member)
    with committed():
        submission = lifecycle.submission_submit(
            submission=submission, acting_user=lab_member, accuracy_declared=True
        )
    submission = lifecycle.submission_start_review(submission=submission, acting_user=reviewer)
    with committed():
        getattr(lifecycle, f"submission_{decision}")(
            submission=submission, acting_user=reviewer, rationale="Checked."
        )
    return submission


def test_a_decision_reaches_the_lab_pipeline_signed(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed
):
    endpoint, secret = register(lab, lab_admin, webhook_receiver.url(), ["submission.decided"])
    submission = decide(lab_member, reviewer, committed)

    [received] = webhook_receiver.requests
    assert received.path == "/hooks/govportal"
    body = verified(secret, received)
    assert body["type"] == "submission.decided"
    assert body["id"] == received.headers["webhook-id"]
    assert body["data"]["reference"] == submission.reference
    assert body["data"]["status"] == "accepted"
    assert body["data"]["url"] == (
        f"http://127.0.0.1:8000/api/v1/submissions/{submission.reference}/"
    )
    assert body["timestamp"].endswith("Z")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "succeeded"
    assert [(a.number, a.response_status) for a in delivery.attempts.all()] == [(1, 204)]


def test_every_subscribed_type_arrives_and_nothing_else(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed
):
    _, secret = register(lab, lab_admin, webhook_receiver.url(), ALL_EVENTS)
    decide(lab_member, reviewer, committed, decision="reject")

    types = [verified(secret, r)["type"] for r in webhook_receiver.requests]
    issued = AuditEvent.objects.filter(action="report.issue").count()
    assert issued >= 2
    assert sorted(types) == ["report.ready"] * issued + [
        "submission.assessed",
        "submission.decided",
    ]
    ready = [verified(secret, r) for r in webhook_receiver.requests if b"report.ready" in r.body]
    assert all(r["data"]["url"].endswith(f"/reports/{r['data']['version']}/") for r in ready)


def test_a_failing_receiver_is_retried_and_every_attempt_recorded(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed
):
    webhook_receiver.answers = [500, 503]
    endpoint, _ = register(lab, lab_admin, webhook_receiver.url(), ["submission.decided"])
    decide(lab_member, reviewer, committed)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "succeeded"
    assert [a.response_status for a in delivery.attempts.all()] == [500, 503, 204]
    ids = {r.headers["webhook-id"] for r in webhook_receiver.requests}
    assert ids == {delivery.message_id}  # the same id on every attempt: receivers dedupe


def test_a_delivery_gives_up_after_the_configured_attempts(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed, settings
):
    settings.GOVPORTAL_WEBHOOK_MAX_ATTEMPTS = 3
    webhook_receiver.answers = [500] * 10
    endpoint, _ = register(lab, lab_admin, webhook_receiver.url(), ["submission.decided"])
    decide(lab_member, reviewer, committed)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "failed"
    assert delivery.attempts.count() == 3 == len(webhook_receiver.requests)


def test_redirects_are_not_followed(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed, settings
):
    settings.GOVPORTAL_WEBHOOK_MAX_ATTEMPTS = 1
    webhook_receiver.answers = [(302, webhook_receiver.url("/elsewhere"))]
    endpoint, _ = register(lab, lab_admin, webhook_receiver.url(), ["submission.decided"])
    decide(lab_member, reviewer, committed)

    assert [r.path for r in webhook_receiver.requests] == ["/hooks/govportal"]
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts.get().response_status) == ("failed", 302)


def test_an_event_dispatched_twice_is_delivered_once(
    lab, lab_admin, lab_member, reviewer, webhook_receiver, committed
):
    register(lab, lab_admin, webhook_receiver.url(), ["submission.decided"])
    submission = decide(lab_member, reviewer, committed)
    event = AuditEvent.objects.get(action="submission.accept", object_id=submission.reference)

    with committed():
        assert audit_event_dispatch(event_id=event.pk)["deliveries"] == 0
    assert len(webhook_receiver.requests) == 1


def test_a_rotated_secret_signs_beside_the_previous_one_for_the_grace_period(
    lab, lab_admin, webhook_receiver, committed, settings
):
    endpoint, old_secret = register(lab, lab_admin, webhook_receiver.url())
    endpoint, new_secret = webhooks.webhook_secret_rotate(endpoint=endpoint, acting_user=lab_admin)
    with committed():
        webhooks.webhook_test_send(endpoint=endpoint, acting_user=lab_admin)

    [received] = webhook_receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(old_secret, received)["type"] == "webhook.test"
    assert verified(new_secret, received)["type"] == "webhook.test"

    settings.GOVPORTAL_WEBHOOK_SECRET_GRACE_HOURS = 0
    endpoint, newest = webhooks.webhook_secret_rotate(endpoint=endpoint, acting_user=lab_admin)
    with committed():
        webhooks.webhook_test_send(endpoint=endpoint, acting_user=lab_admin)
    latest = webhook_receiver.requests[-1]
    assert verified(newest, latest)
    with pytest.raises(Exception, match="No matching signature"):
        verified(new_secret, latest)


def test_a_forged_body_does_not_verify(lab, lab_admin, webhook_receiver, committed):
    endpoint, secret = register(lab, lab_admin, webhook_receiver.url())
    with committed():
        webhooks.webhook_test_send(endpoint=endpoint, acting_user=lab_admin)
    [received] = webhook_receiver.requests
    forged = json.loads(received.body)
    forged["data"]["message"] = "forged"
    received.body = json.dumps(forged).encode()
    with pytest.raises(Exception, match="No matching signature"):
        verified(secret, received)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://169.254.10.10/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://100.100.100.200/hook", "metadata"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("http://93.184.215.14/hook", "https://"),
        ("https://user:pw@93.184.215.14/hook", "password"),
    ],
)
def test_non_public_or_unsafe_endpoints_are_refused(lab, lab_admin, url, reason):
    with pytest.raises(ServiceError, match=reason):
        register(lab, lab_admin, url)


def test_a_public_https_endpoint_is_accepted(lab, lab_admin):
    endpoint, secret = register(lab, lab_admin, "https://93.184.215.14/hooks")
    assert endpoint.url == "https://93.184.215.14/hooks"
    assert secret.startswith("whsec_")


def test_an_address_that_turns_private_is_refused_at_delivery_without_connecting(
    lab, lab_admin, webhook_receiver, committed, settings, monkeypatch
):
    endpoint, _ = register(lab, lab_admin, webhook_receiver.url())
    # The name now resolves to a private address (DNS rebinding) and tests no longer
    # allow local targets: the delivery checks again and never connects.
    settings.GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS = False
    settings.GOVPORTAL_WEBHOOK_MAX_ATTEMPTS = 2
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["10.0.0.7"])
    with committed():
        delivery = webhooks.webhook_test_send(endpoint=endpoint, acting_user=lab_admin)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    errors = [attempt.error for attempt in delivery.attempts.all()]
    assert errors and all("refused" in e and "private" in e for e in errors)
    assert webhook_receiver.requests == []


def test_only_a_lab_admin_manages_endpoints(lab, lab_member, reviewer):
    for person in (lab_member, reviewer):
        with pytest.raises(NotPermitted):
            register(lab, person, "https://93.184.215.14/hooks")
