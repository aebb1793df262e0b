"""Template context every page gets: who is signed in, for which organization, in which role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from audits.roles import membership_of


def portal(request: HttpRequest) -> dict[str, Any]:
    membership = membership_of(request.user) if hasattr(request, "user") else None
    nav: list[tuple[str, str, str]] = []  # (url, label, section key)
    if membership is not None:
        organization = membership.organization
        if organization.is_lab:
            nav.append((reverse("filings"), "Filings", "filings"))
            if membership.is_admin:
                nav.append((reverse("members"), "Members", "members"))
                nav.append((reverse("api-keys"), "API keys", "api-keys"))
        else:
            nav.append((reverse("queue"), "Review queue", "queue"))
            if membership.is_admin:
                nav.append((reverse("portfolio"), "Portfolio", "portfolio"))
                nav.append((reverse("rubrics"), "Rubrics", "rubrics"))
                nav.append((reverse("members"), "Members", "members"))
    return {"membership": membership, "portal_nav": nav}
