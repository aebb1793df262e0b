"""Template context every page gets: who is signed in, for which organization, in which role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from audits import roles


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    membership = roles.membership_of(user)
    nav: list[tuple[str, str, str]] = []  # (url, label, section key)
    if membership is not None:
        organization = membership.organization
        if roles.is_lab_staff(user):
            nav.append((reverse("filings"), "Filings", "filings"))
        if roles.is_regulator(user):
            nav.append((reverse("queue"), "Review queue", "queue"))
        if roles.may_view_portfolio(user):
            nav.append((reverse("portfolio"), "Portfolio", "portfolio"))
        if roles.may_publish_rubric(user):
            nav.append((reverse("rubrics"), "Rubrics", "rubrics"))
        if roles.may_manage_metric_aliases(user):
            nav.append((reverse("metric-aliases"), "Metric aliases", "metric-aliases"))
        if roles.may_manage_members(user, organization):
            nav.append((reverse("members"), "Members", "members"))
        if roles.may_manage_api_keys(user, organization):
            nav.append((reverse("api-keys"), "API keys", "api-keys"))
            nav.append((reverse("webhooks"), "Webhooks", "webhooks"))
        if roles.is_regulator(user) or roles.may_manage_api_keys(user, organization):
            nav.append((reverse("audit-trail"), "Audit trail", "audit-trail"))
    return {"membership": membership, "portal_nav": nav}
