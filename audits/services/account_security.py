"""Signing in safely: a second factor (TOTP, recovery codes), and a trace of every sign-in.

Regulators must confirm each sign-in with an authenticator app (django-otp's TOTP device);
lab staff may. Ten single-use recovery codes (a static device) stand in for a lost phone.
Every sign-in, failure, lockout, second-factor change and password change or reset is an
audit event, filed under the person's organization so its admins see it in the trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits.errors import ServiceError
from audits.roles import is_regulator, membership_of
from audits.services.audit_log import audit_event_record

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def two_factor_required(user: Any) -> bool:
    """Regulators must use a second factor; lab staff choose."""
    return is_regulator(user)


def two_factor_enabled(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def _record(
    action: str,
    *,
    account: Any | None,
    name: str = "",
    by_account: bool = True,
    request: HttpRequest | None = None,
    **payload: Any,
) -> None:
    """An account event, filed under the account's organization so its admins see it.
    `by_account`: the account's owner acted (signed in); otherwise nobody known did (a
    failed attempt, a reset link sent on request)."""
    membership = membership_of(account) if account is not None else None
    audit_event_record(
        actor=account if by_account else None,
        action=action,
        object_type="user",
        object_id=(account.get_username() if account is not None else name)[:80] or "(none)",
        organization=membership.organization if membership else None,
        payload={"ip_address": client_address(request), **payload},
    )


def _user_named(username: str) -> Any | None:
    return get_user_model().objects.filter(username=username).first() if username else None


# --- the trail of sign-ins ------------------------------------------------------------------


@transaction.atomic
def account_sign_in_record(*, user: Any, request: HttpRequest | None) -> None:
    _record("account.sign_in", account=user, request=request)


@transaction.atomic
def account_sign_in_failed_record(*, username: str, request: HttpRequest | None) -> None:
    # Names the account tried: its lab's admins see attacks on their people.
    _record(
        "account.sign_in_failed",
        account=_user_named(username),
        name=username,
        by_account=False,
        request=request,
    )


@transaction.atomic
def account_lockout_record(*, username: str, request: HttpRequest | None) -> None:
    _record(
        "account.lockout",
        account=_user_named(username),
        name=username,
        by_account=False,
        request=request,
    )


@transaction.atomic
def account_password_change_record(*, user: Any, request: HttpRequest | None) -> None:
    _record("account.password_change", account=user, request=request)


@transaction.atomic
def account_password_reset_request_record(*, user: Any, request: HttpRequest | None) -> None:
    _record("account.password_reset_request", account=user, by_account=False, request=request)


@transaction.atomic
def account_password_reset_record(*, user: Any, request: HttpRequest | None) -> None:
    _record("account.password_reset", account=user, by_account=False, request=request)


# --- the second factor ----------------------------------------------------------------------


@transaction.atomic
def two_factor_enrolment_start(*, user: Any) -> TOTPDevice:
    """The unconfirmed authenticator to show as a QR code (the same one until confirmed)."""
    if two_factor_enabled(user):
        raise ServiceError("Two-factor authentication is already set up for this account.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _refuse_while_throttled(device: Device) -> None:
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        wait = f" until {locked_until:%H:%M:%S} UTC" if locked_until else ""
        raise ServiceError(
            f"Too many wrong codes: wait{wait or ' a moment'} before trying again.",
            details={"field": "token"},
        )


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_enrolment_confirm(*, user: Any, token: str, request: HttpRequest) -> list[str]:
    """Confirm the authenticator with a code it shows; the session is then verified.
    Returns the recovery codes, shown this once."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ServiceError("Start the set-up again: there is no authenticator to confirm.")
        _refuse_while_throttled(device)
        # A wrong code's throttling is committed with this block, before the refusal.
        accepted = device.verify_token(token.strip().replace(" ", ""))
    if not accepted:
        raise ServiceError(
            "That code does not match. Check the app shows govportal and that the phone's "
            "clock is right, then enter the current code.",
            details={"field": "token"},
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _new_recovery_codes(user)
        otp_login(request, device)
        _record("account.two_factor_enrol", account=user, request=request)
    return codes


def two_factor_verify(*, user: Any, token: str, request: HttpRequest) -> Device:
    """Confirm this sign-in with an authenticator code or a recovery code. A refused code
    is recorded and slows further tries down (django-otp's throttling), both committed
    before the refusal is raised."""
    device = _device_accepting(user, token.strip().replace(" ", "").replace("-", ""), request)
    if device is not None:
        # Proven: earlier wrong codes no longer slow the person's other device down.
        for model in (TOTPDevice, StaticDevice):
            model.objects.filter(user=user).update(
                throttling_failure_count=0, throttling_failure_timestamp=None
            )
    if device is None:
        with transaction.atomic():
            _record("account.two_factor_failed", account=user, by_account=False, request=request)
        raise ServiceError(
            "That code is not right (or was already used). Enter the current six-digit code "
            "from your authenticator app, or one of your recovery codes.",
            details={"field": "token"},
        )
    return device


@transaction.atomic
def _device_accepting(user: Any, token: str, request: HttpRequest) -> Device | None:
    for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
        _refuse_while_throttled(device)
        if device.verify_token(token):
            otp_login(request, device)
            _record(
                "account.two_factor_verify",
                account=user,
                request=request,
                method="authenticator code",
            )
            return device
    for static in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
        if static.verify_token(token):
            otp_login(request, static)
            remaining = static.token_set.count()
            _record("account.recovery_code_use", account=user, request=request, remaining=remaining)
            return static
    return None


@transaction.atomic
def recovery_codes_regenerate(*, user: Any, request: HttpRequest) -> list[str]:
    if not two_factor_enabled(user):
        raise ServiceError("Set up two-factor authentication first.")
    codes = _new_recovery_codes(user)
    # The session was verified by a device just replaced? Keep it verified by the app.
    if str(request.session.get(DEVICE_ID_SESSION_KEY, "")).startswith("otp_static"):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        otp_login(request, device)
    _record("account.recovery_codes_regenerate", account=user, request=request)
    return codes


def two_factor_remove(*, user: Any, token: str, request: HttpRequest) -> None:
    """Lab staff may turn the second factor off, confirming with a current code."""
    if two_factor_required(user):
        raise ServiceError("Regulators must keep two-factor authentication on.")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            raise ServiceError("Two-factor authentication is not set up.")
        _refuse_while_throttled(device)
        accepted = device.verify_token(token.strip().replace(" ", ""))
    if not accepted:
        raise ServiceError(
            "That code is not right; enter the current code to turn two-factor off.",
            details={"field": "token"},
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        _record("account.two_factor_remove", account=user, request=request)
