"""Signing in: regulators enrol and use a second factor, lab staff may; lockout after
repeated failures; password reset by email; regulators' idle expiry; every step audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits.models import AuditEvent
from tests.signing_in import authenticator_code
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


def actions_for(username: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="user", object_id=username)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def sign_in_with_password(client: Client, username: str) -> object:
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_a_regulator_enrols_at_first_sign_in_and_then_confirms_every_sign_in(reviewer):
    client = Client()
    sign_in_with_password(client, "reviewer")
    response = client.get(reverse("queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-setup"))

    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page  # the QR code
    url = re.search(r"otpauth://totp/[^<\s\"]+", page).group(0)
    assert "issuer=govportal" in url.replace("&amp;", "&")
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)

    wrong = client.post(reverse("two-factor-setup"), {"token": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait a moment after a failure
    done = client.post(
        reverse("two-factor-setup"), {"token": authenticator_code(device), "next": "/queue/"}
    )
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("queue")).status_code == 200

    # Next sign-in: the password alone reaches nothing but the second step.
    client.post(reverse("logout"))
    sign_in_with_password(client, "reviewer")
    assert client.get(reverse("queue"))["Location"].startswith(reverse("two-factor-verify"))
    refused = client.post(reverse("two-factor-verify"), {"token": "123456"})
    assert refused.status_code == 400 and "not right" in refused.content.decode()
    assert client.get(reverse("queue")).status_code == 302
    device.refresh_from_db()
    # django-otp slows guessing down after a failure: wait out its delay before the good code.
    device.throttle_reset()
    ok = client.post(
        reverse("two-factor-verify"), {"token": authenticator_code(device), "next": "/queue/"}
    )
    assert ok["Location"] == "/queue/"
    assert client.get(reverse("queue")).status_code == 200

    # A recovery code works once.
    client.post(reverse("logout"))
    sign_in_with_password(client, "reviewer")
    assert client.post(reverse("two-factor-verify"), {"token": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    sign_in_with_password(client, "reviewer")
    assert client.post(reverse("two-factor-verify"), {"token": codes[0]}).status_code == 400

    assert actions_for("reviewer") == [
        "account.sign_in",
        "account.two_factor_enrol",
        "account.sign_in",
        "account.two_factor_failed",
        "account.two_factor_verify",
        "account.sign_in",
        "account.recovery_code_use",
        "account.sign_in",
        "account.two_factor_failed",
    ]


def test_a_regulator_cannot_use_the_api_by_session_before_the_second_factor(reviewer):
    client = Client()
    sign_in_with_password(client, "reviewer")
    response = client.get("/api/v1/submissions/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"


def test_lab_staff_choose_two_factor_and_may_turn_it_off(lab_member):
    client = Client()
    sign_in_with_password(client, "lab-member")
    assert client.get(reverse("filings")).status_code == 200  # optional for labs

    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=lab_member, confirmed=False)
    client.post(reverse("two-factor-setup"), {"token": authenticator_code(device)})
    client.post(reverse("logout"))
    sign_in_with_password(client, "lab-member")
    assert client.get(reverse("filings"))["Location"].startswith(reverse("two-factor-verify"))
    client.post(reverse("two-factor-verify"), {"token": authenticator_code(device)})

    client.post(reverse("two-factor-remove"), {"token": authenticator_code(device)})
    assert not TOTPDevice.objects.filter(user=lab_member).exists()
    assert "account.two_factor_remove" in actions_for("lab-member")


def test_regulators_cannot_turn_two_factor_off(reviewer):
    client = client_for(reviewer)
    device = TOTPDevice.objects.get(user=reviewer)
    client.post(reverse("two-factor-remove"), {"token": authenticator_code(device)})
    assert TOTPDevice.objects.filter(user=reviewer).exists()


def test_repeated_failures_lock_the_account_out_with_a_clear_message(lab_member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "lab-member", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post(reverse("login"), {"username": "lab-member", "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password is refused while locked out.
    assert sign_in_with_password(client, "lab-member").status_code == 429
    actions = actions_for("lab-member")
    assert actions.count("account.sign_in_failed") >= settings.AXES_FAILURE_LIMIT
    assert "account.lockout" in actions
    assert "account.sign_in" not in actions
    # The lab's admins see it in their trail: the events are filed under the lab.
    lockout = AuditEvent.objects.filter(action="account.lockout").first()
    assert lockout.organization == lab_member.membership.organization


def test_password_reset_by_email_through_a_real_mail_server(client, lab_member, smtp_server):
    client.post(reverse("password_reset"), {"email": lab_member.email})
    [message] = smtp_server.to(lab_member.email)
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", smtp_server.text(message))
    assert link
    path = link.group(0).split("testserver", 1)[-1]
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )
    assert response["Location"] == reverse("password_reset_complete")
    lab_member.refresh_from_db()
    assert lab_member.check_password("another-long-passphrase-7")
    assert actions_for("lab-member")[-2:] == [
        "account.password_reset_request",
        "account.password_reset",
    ]


def test_a_password_change_is_audited(lab_member):
    client_for(lab_member).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert actions_for("lab-member")[-1] == "account.password_change"


def test_regulators_sessions_expire_after_idle_minutes(reviewer, lab_member, settings):
    settings.GOVPORTAL_REGULATOR_IDLE_MINUTES = 20
    regulator = client_for(reviewer)
    regulator.get(reverse("queue"))
    assert regulator.session.get_expiry_age() == 20 * 60
    lab = client_for(lab_member)
    lab.get(reverse("filings"))
    assert lab.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
