"""Sign-in's second step, two-factor set-up, and the rules every request of a signed-in
person passes: a second factor where one is required or set up, and regulators' idle expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from audits.errors import ServiceError
from audits.roles import membership_of
from audits.services import account_security as security

# Pages a signed-in person reaches before the second factor (or while setting it up).
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "two-factor-verify",
        "two-factor-setup",
        "two-factor-recovery-codes",
        "logout",
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "report-verify",
    }
)


IDLE_STAMP_KEY = "govportal_idle_refreshed_at"
# Whether the signed-in person has an authenticator: read once per session (at sign-in, or
# the first request), kept current by set-up and removal in this session.
ENROLLED_KEY = "govportal_two_factor"


def _enrolled(request: HttpRequest, user: Any) -> bool:
    if ENROLLED_KEY not in request.session:
        request.session[ENROLLED_KEY] = security.two_factor_enabled(user)
    return bool(request.session[ENROLLED_KEY])


class AccountSecurityMiddleware:
    """After OTPMiddleware: a person who must (a regulator) or chose to (lab staff with an
    authenticator) confirm sign-in with a second factor reaches nothing else until they
    have; regulators' sessions expire after GOVPORTAL_REGULATOR_IDLE_MINUTES idle."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            required = security.two_factor_required(user)
            if required:
                self._slide_idle_expiry(request)
            if not user.is_verified() and not self._open(request):
                enrolled = _enrolled(request, user)
                if required or enrolled:
                    return self._second_factor_first(request, enrolled)
        return self.get_response(request)

    @staticmethod
    def _slide_idle_expiry(request: HttpRequest) -> None:
        # Each request starts the idle period again; the session is rewritten at most once
        # a minute for it, so the expiry is exact to the minute without a write per request.
        now = int(time.time())
        if now - int(request.session.get(IDLE_STAMP_KEY, 0)) >= 60:
            request.session.set_expiry(settings.GOVPORTAL_REGULATOR_IDLE_MINUTES * 60)
            request.session[IDLE_STAMP_KEY] = now

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        if request.path_info.startswith(("/admin/", "/static/", "/schemas/")):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.url_name in OPEN_BEFORE_SECOND_FACTOR

    @staticmethod
    def _second_factor_first(request: HttpRequest, enrolled: bool) -> HttpResponseBase:
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "code": "second_factor_required",
                        "message": "Confirm your sign-in with your second factor in the portal "
                        "first, or use an organization API key.",
                        "details": {},
                    }
                },
                status=403,
            )
        target = "two-factor-verify" if enrolled else "two-factor-setup"
        next_path = request.get_full_path() if request.method == "GET" else reverse("home")
        return redirect(f"{reverse(target)}?next={next_path}")


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("home")


# --- sign-in's second step and set-up -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not security.two_factor_enabled(user):
        return redirect(f"{reverse('two-factor-setup')}?next={_next(request)}")
    error = ""
    if request.method == "POST":
        try:
            security.two_factor_verify(
                user=user, token=request.POST.get("token", ""), request=request
            )
        except ServiceError as refusal:
            error = refusal.message
        else:
            return redirect(_next(request))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error, "next": _next(request)},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if security.two_factor_enabled(user):
        messages.info(request, "Two-factor authentication is already set up.")
        return redirect("account")
    device = security.two_factor_enrolment_start(user=user)
    error = ""
    if request.method == "POST":
        try:
            codes = security.two_factor_enrolment_confirm(
                user=user, token=request.POST.get("token", ""), request=request
            )
        except ServiceError as refusal:
            error = refusal.message
        else:
            request.session[ENROLLED_KEY] = True
            return _recovery_codes_page(request, codes, first=True)
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "qr_svg": qr.svg_inline(scale=5, dark="#111", omitsize=False),
            "otpauth_url": device.config_url,
            "secret": _grouped(device.config_url.split("secret=")[1].split("&")[0]),
            "required": security.two_factor_required(user),
            "error": error,
            "next": _next(request),
        },
        status=400 if error else 200,
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _recovery_codes_page(request: HttpRequest, codes: list[str], *, first: bool) -> HttpResponse:
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "first": first, "next": _next(request)},
    )


@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once."""
    try:
        codes = security.recovery_codes_regenerate(user=request.user, request=request)
    except ServiceError as refusal:
        messages.error(request, refusal.message)
        return redirect("account")
    return _recovery_codes_page(request, codes, first=False)


@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    try:
        security.two_factor_remove(
            user=request.user, token=request.POST.get("token", ""), request=request
        )
    except ServiceError as refusal:
        messages.error(request, refusal.message)
    else:
        request.session[ENROLLED_KEY] = False
        messages.success(request, "Two-factor authentication is off for your account.")
    return redirect("account")


# --- passwords, with their audit events -----------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        security.account_password_change_record(user=form.user, request=self.request)
        return response


class AuditedPasswordResetForm(PasswordResetForm):
    """Django's reset form, recording each reset email it sends (nothing for unknown
    addresses, and the page answers the same either way)."""

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        super().send_mail(*args, **kwargs)
        context = args[2] if len(args) > 2 else kwargs["context"]
        security.account_password_reset_request_record(
            user=context["user"], request=getattr(self, "request", None)
        )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AuditedPasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        form.request = self.request
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        security.account_password_reset_record(user=form.user, request=self.request)
        return response


# --- signals from django.contrib.auth and axes ------------------------------------------------


def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if membership_of(user) is None and not getattr(user, "is_staff", False):
        return
    security.account_sign_in_record(user=user, request=request)


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    security.account_sign_in_failed_record(
        username=str(credentials.get("username", "")), request=request
    )


def _locked_out(
    sender: Any, request: HttpRequest | None = None, username: str = "", **kwargs: Any
) -> None:
    security.account_lockout_record(username=username or "", request=request)


def signals_connect() -> None:
    """Record sign-ins, failures and lockouts in the audit log (called from AppConfig.ready)."""
    from axes.signals import user_locked_out

    user_logged_in.connect(_signed_in, dispatch_uid="govportal-sign-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="govportal-sign-in-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="govportal-lockout")
