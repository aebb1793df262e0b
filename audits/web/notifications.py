"""The bell: a person's notifications, marking them read, and which kinds come by email."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import selectors_people
from audits.models import Notification
from audits.services import notifications as service
from audits.web.common import portal_view

PAGE_SIZE = 25


def unread(request: HttpRequest) -> dict[str, Any]:
    """Template context: the signed-in person's unread count, for the bell in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            recipient_id=user.pk, read_at__isnull=True
        ).count()
    }


@portal_view
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors_people.notifications_of(
        user=request.user, unread_only=request.GET.get("show") == "unread"
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audits/notifications/list.html",
        {"page": page, "show": request.GET.get("show", "all"), "section": "notifications"},
    )


@portal_view
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read and go where it points (or back to the list)."""
    notification = Notification.objects.get(pk=pk, recipient_id=request.user.pk)
    service.notification_mark_read(notification=notification, acting_user=request.user)
    if (
        request.POST.get("open")
        and notification.link
        and url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()})
    ):
        return redirect(notification.link)
    return redirect("notifications")


@portal_view
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = service.notifications_mark_all_read(acting_user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications")


@portal_view
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        chosen = [
            kind for kind in request.POST.getlist("email") if kind in Notification.Kind.values
        ]
        service.notification_preferences_set(acting_user=request.user, email_kinds=chosen)
        messages.success(request, "Your email preferences are saved.")
        return redirect("notification-preferences")
    email_kinds = service.notification_email_kinds(request.user)
    kinds = [
        (kind, Notification.Kind(kind).label, kind in email_kinds)
        for kind in service.notification_kinds_for(request.user)
    ]
    return render(
        request,
        "audits/notifications/preferences.html",
        {"kinds": kinds, "section": "account"},
    )
