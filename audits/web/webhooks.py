"""A lab admin's webhook endpoints: register, change, rotate the secret, send a test event,
and read every delivery with its attempts and response codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audits import selectors_people
from audits.errors import ServiceError
from audits.models import WebhookEndpoint
from audits.roles import ensure, may_manage_webhooks, require_membership
from audits.services import webhooks as service
from audits.web.common import portal_view

DELIVERIES_PER_PAGE = 20


class EndpointForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        label="Endpoint URL",
        help_text="An https:// address of your pipeline that answers POSTs with a 2xx.",
    )
    description = forms.CharField(max_length=200, required=False, label="Description")
    event_types = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {text}") for name, text in service.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
    )


def _service_error(form: forms.Form, error: ServiceError) -> None:
    field = error.details.get("field")
    form.add_error(field if field in form.fields else None, error.message)


def _list_page(
    request: HttpRequest, form: EndpointForm, status: int = 200, **extra: Any
) -> HttpResponse:
    organization = require_membership(request.user).organization
    _require_manager(request, organization)
    return render(
        request,
        "audits/organization/webhooks.html",
        {
            "endpoints": selectors_people.webhook_endpoints(user=request.user),
            "form": form,
            "section": "webhooks",
            **extra,
        },
        status=status,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The lab's endpoints; POST registers one and shows its secret this once."""
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = require_membership(request.user).organization
        try:
            endpoint, secret = service.webhook_endpoint_create(
                organization=organization, acting_user=request.user, **form.cleaned_data
            )
        except ServiceError as error:
            _service_error(form, error)
        else:
            return _list_page(request, EndpointForm(), created=endpoint, secret=secret)
    return _list_page(request, form, status=400 if form.errors else 200)


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    endpoint = selectors_people.webhook_endpoint_get(user=request.user, pk=pk)
    _require_manager(request, endpoint.organization)
    return endpoint


def _require_manager(request: HttpRequest, organization: Any) -> None:
    ensure(
        may_manage_webhooks(request.user, organization),
        f"Only an admin of {organization.name} manages its webhooks.",
    )


def _detail_page(
    request: HttpRequest,
    endpoint: WebhookEndpoint,
    form: EndpointForm,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    deliveries = Paginator(
        selectors_people.webhook_deliveries(endpoint=endpoint), DELIVERIES_PER_PAGE
    )
    return render(
        request,
        "audits/organization/webhook_detail.html",
        {
            "endpoint": endpoint,
            "form": form,
            "page": deliveries.get_page(request.GET.get("page")),
            "section": "webhooks",
            "now": timezone.now(),
            **extra,
        },
        status=status,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One endpoint: its deliveries and attempts; POST changes its address or events."""
    endpoint = _endpoint(request, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            service.webhook_endpoint_update(
                endpoint=endpoint, acting_user=request.user, **form.cleaned_data
            )
        except ServiceError as error:
            _service_error(form, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhook", pk=endpoint.pk)
    return _detail_page(request, endpoint, form, status=400 if form.errors else 200)


@portal_view
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint, secret = service.webhook_secret_rotate(
        endpoint=_endpoint(request, pk), acting_user=request.user
    )
    form = EndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
        }
    )
    return _detail_page(request, endpoint, form, secret=secret)


@portal_view
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = service.webhook_test_send(endpoint=_endpoint(request, pk), acting_user=request.user)
    messages.success(
        request,
        f"Test event {delivery.message_id} queued; its attempts appear below as they happen.",
    )
    return redirect("webhook", pk=pk)


@portal_view
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = service.webhook_endpoint_disable(
        endpoint=_endpoint(request, pk), acting_user=request.user
    )
    messages.success(request, f"{endpoint.url} removed; nothing more is sent to it.")
    return redirect("webhooks")
