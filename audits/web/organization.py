"""Admins manage their organization: members and roles; a lab's API keys."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_http_methods, require_POST

from audits import selectors
from audits.errors import ServiceError
from audits.models import OrganizationAPIKey
from audits.roles import require_membership
from audits.services import api_keys, organizations
from audits.web.common import AuthenticatedRequest, act_and_redirect, portal_view
from audits.web.forms import APIKeyForm, MemberInviteForm, MemberRoleForm


def _members_page(
    request: AuthenticatedRequest, form: MemberInviteForm, status: int = 200
) -> HttpResponse:
    members = selectors.organization_members(user=request.user)
    return render(
        request,
        "audits/organization/members.html",
        {
            "members": members,
            "form": form,
            "role_form": MemberRoleForm(),
            "section": "members",
        },
        status=status,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def members(request: AuthenticatedRequest) -> HttpResponse:
    """The organization's people; POST invites one (they set a password from an email)."""
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = require_membership(request.user).organization
        try:
            membership = organizations.member_invite(
                organization=organization, acting_user=request.user, **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(error.details.get("field"), error.message)
        else:
            _send_invitation(request, membership.user)
            messages.success(
                request,
                f"{membership.user.get_username()} added as {membership.role_label}; "
                f"an email to {membership.user.email} lets them choose a password.",
            )
            return redirect("members")
    return _members_page(request, form, status=400 if form.errors else 200)


def _send_invitation(request: HttpRequest, user: Any) -> None:
    # The password-reset link doubles as the invitation. Django's reset form skips accounts
    # without a usable password, which an invited account is, so the mail is built here.
    context = {
        "email": user.email,
        "domain": request.get_host(),
        "site_name": "govportal",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if request.is_secure() else "http",
    }
    PasswordResetForm().send_mail(
        "registration/invitation_subject.txt",
        "registration/invitation_email.txt",
        context,
        None,
        user.email,
    )


@portal_view
@require_POST
def member_role(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    organization = require_membership(request.user).organization
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: member or admin.")
        return redirect("members")

    def set_role() -> str:
        membership = organizations.member_role_set(
            organization=organization,
            acting_user=request.user,
            user_id=user_id,
            role=form.cleaned_data["role"],
        )
        return f"{membership.user.get_username()} is now {membership.role_label}."

    return act_and_redirect(request, set_role, "members")


@portal_view
@require_POST
def member_remove(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    organization = require_membership(request.user).organization

    def remove() -> str:
        organizations.member_remove(
            organization=organization, acting_user=request.user, user_id=user_id
        )
        return "Removed; their account is deactivated and their history kept."

    return act_and_redirect(request, remove, "members")


def _keys_page(
    request: HttpRequest, form: APIKeyForm, status: int = 200, **extra: Any
) -> HttpResponse:
    keys = selectors.api_keys_of_organization(user=request.user)
    return render(
        request,
        "audits/organization/api_keys.html",
        {"keys": keys, "form": form, "section": "api-keys", "now": timezone.now(), **extra},
        status=status,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def api_key_list(request: AuthenticatedRequest) -> HttpResponse:
    """The lab's API keys; POST creates one and shows it this once."""
    scopes = list(OrganizationAPIKey.Scope.choices)
    form = APIKeyForm(request.POST or None, scopes=scopes)
    if request.method == "POST" and form.is_valid():
        organization = require_membership(request.user).organization
        expires_on = form.cleaned_data.get("expires_at")
        expires_at = (
            datetime.datetime.combine(expires_on, datetime.time.max, tzinfo=datetime.UTC)
            if expires_on
            else None
        )
        try:
            key, plaintext = api_keys.api_key_create(
                organization=organization,
                acting_user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=expires_at,
            )
        except ServiceError as error:
            form.add_error(error.details.get("field"), error.message)
        else:
            return _keys_page(request, APIKeyForm(scopes=scopes), created=key, plaintext=plaintext)
    return _keys_page(request, form, status=400 if form.errors else 200)


@portal_view
@require_POST
def api_key_revoke(request: AuthenticatedRequest, prefix: str) -> HttpResponse:
    key = selectors.api_key_get(user=request.user, prefix=prefix)
    api_keys.api_key_revoke(api_key=key, acting_user=request.user)
    messages.success(request, f"Key {key.name} ({key.prefix}…) revoked; it no longer works.")
    return redirect("api-keys")
