"""Where a signed-in person lands, and their account page (organization, role, password)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from audits.roles import membership_of
from audits.services import account_security
from audits.web.common import portal_view


@portal_view
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None:
        return redirect("account")
    return redirect("filings" if membership.organization.is_lab else "queue")


@portal_view
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "audits/account.html",
        {
            "section": "account",
            "two_factor_enabled": account_security.two_factor_enabled(request.user),
            "two_factor_required": account_security.two_factor_required(request.user),
        },
    )
