"""The bell and its page, email preferences, and a lab admin's webhook pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audits.models import Notification, NotificationPreference, WebhookDelivery
from audits.services import submissions as lifecycle
from tests.conftest import make_draft
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_bell_counts_unread_and_the_page_marks_them_read(lab_member, reviewer, committed):
    submission = lifecycle.submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    submission = lifecycle.submission_start_review(submission=submission, acting_user=reviewer)
    with committed():
        lifecycle.submission_request_changes(
            submission=submission, acting_user=reviewer, rationale="Add the probe study."
        )
    client = client_for(lab_member)
    html = client.get(reverse("filings")).content.decode()
    unread = Notification.objects.filter(recipient=lab_member, read_at__isnull=True)
    assert unread.count() >= 1
    assert re.search(rf'class="bell-count">{unread.count()}<', html)

    page = client.get(reverse("notifications")).content.decode()
    assert f"{submission.reference}" in page and "Add the probe study." in page
    notification = Notification.objects.get(recipient=lab_member, kind="changes_requested")
    response = client.post(reverse("notification-read", args=[notification.pk]), {"open": "1"})
    assert response["Location"] == f"/submissions/{submission.reference}/"
    html = client.get(reverse("filings")).content.decode()
    assert re.search(rf'class="bell-count">{unread.count()}<', html) or unread.count() == 0


def test_nobody_marks_someone_elses_notification(lab_member, lab_admin):
    theirs = Notification.objects.create(recipient=lab_admin, kind="comment", subject="x", body="x")
    response = client_for(lab_member).post(reverse("notification-read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(lab_member):
    for number in range(3):
        Notification.objects.create(
            recipient=lab_member, kind="comment", subject=f"{number}", body=""
        )
    client_for(lab_member).post(reverse("notifications-read-all"))
    assert not Notification.objects.filter(recipient=lab_member, read_at__isnull=True).exists()


def test_email_preferences_offer_the_roles_kinds_and_save(lab_member, reviewer):
    html = client_for(lab_member).get(reverse("notification-preferences")).content.decode()
    assert 'value="changes_requested"' in html and 'value="submission_received"' not in html
    html = client_for(reviewer).get(reverse("notification-preferences")).content.decode()
    assert 'value="submission_received"' in html and 'value="decision"' not in html

    client_for(lab_member).post(reverse("notification-preferences"), {"email": ["decision"]})
    off = set(
        NotificationPreference.objects.filter(user=lab_member, email=False).values_list(
            "kind", flat=True
        )
    )
    assert off == {"changes_requested", "report_ready", "comment"}


def test_a_lab_admin_registers_tests_and_reads_deliveries(lab_admin, webhook_receiver, committed):
    client = client_for(lab_admin)
    response = client.post(
        reverse("webhooks"),
        {"url": webhook_receiver.url(), "event_types": ["report.ready", "submission.decided"]},
    )
    assert response.status_code == 200
    secret = re.search(r"<code>(whsec_[^<]+)</code>", response.content.decode()).group(1)
    assert secret
    endpoint = lab_admin.membership.organization.webhook_endpoints.get()

    with committed():
        client.post(reverse("webhook-test", args=[endpoint.pk]))
    assert len(webhook_receiver.requests) == 1
    page = client.get(reverse("webhook", args=[endpoint.pk])).content.decode()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.message_id in page and "HTTP 204" in page and "Delivered" in page

    rotated = client.post(reverse("webhook-rotate", args=[endpoint.pk])).content.decode()
    assert "New signing secret" in rotated and secret not in rotated


def test_a_refused_address_is_explained_on_the_form(lab_admin):
    response = client_for(lab_admin).post(
        reverse("webhooks"), {"url": "https://10.0.0.1/hook", "event_types": ["report.ready"]}
    )
    assert response.status_code == 400
    assert "a private address" in response.content.decode()
