"""Signing the cast in for tests: a session, and a verified second factor where the rules
ask for one (regulators), so tests reach pages exactly as a real sign-in would."""

from __future__ import annotations

import time
from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits.services.account_security import two_factor_required


def authenticator_of(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)


def sign_in(client: Any, user: Any) -> Any:
    """Log `user` in on `client`; regulators (and anyone with an authenticator) as having
    confirmed the sign-in with it. Returns the client."""
    client.force_login(user)
    if two_factor_required(user) or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = authenticator_of(user).persistent_id
        session.save()
    return client


def authenticator_code(device: TOTPDevice) -> str:
    """What the user's authenticator app shows now: the next code the device accepts
    (a time step already used is refused, so a second sign-in within 30 s takes the next)."""
    device.refresh_from_db()
    step = max(int(time.time() - device.t0) // device.step, device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"
