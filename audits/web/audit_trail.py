"""The audit trail in the portal: browse, filter and export the hash-chained log, read as
sentences, with the outcome of the latest chain verification."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audits import selectors_people
from audits.events import ACTIONS, LAB_VISIBLE_ACTIONS, action_label, event_sentence
from audits.models import AuditEvent
from audits.roles import require_membership
from audits.web.common import portal_view
from audits.web.spreadsheets import safe_cell

PAGE_SIZE = 50
EXPORT_HEADER = (
    "Sequence",
    "Time (UTC)",
    "Actor",
    "Organization",
    "Action",
    "Event",
    "Object type",
    "Object",
    "Hash",
)


class AuditTrailFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Actor (user name)")
    action = forms.ChoiceField(required=False, label="Event")
    reference = forms.CharField(required=False, max_length=20, label="Filing reference")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, lab: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = sorted(
            (action for action in ACTIONS if not lab or action in LAB_VISIBLE_ACTIONS),
            key=action_label,
        )
        action_field: Any = self.fields["action"]
        action_field.choices = [("", "Any event")] + [
            (action, action_label(action)) for action in actions
        ]


def _filters(
    request: HttpRequest,
) -> tuple[AuditTrailFilterForm, selectors_people.AuditTrailFilters]:
    lab = require_membership(request.user).organization.is_lab
    form = AuditTrailFilterForm(request.GET or None, lab=lab)
    if form.is_bound and form.is_valid():
        return form, selectors_people.AuditTrailFilters(**form.cleaned_data)
    return form, selectors_people.AuditTrailFilters()


def describe(event: AuditEvent) -> str:
    return event_sentence(
        action=event.action,
        actor=event.actor_label,
        object_type=event.object_type,
        object_id=event.object_id,
        payload=event.payload,
    )


@portal_view
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    events = selectors_people.audit_trail(user=request.user, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(event, action_label(event.action), describe(event)) for event in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audits/audit_trail.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "last_check": selectors_people.audit_chain_last_check(),
            "section": "audit-trail",
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_HEADER)
    for event in events.iterator(chunk_size=2000):
        row = (
            event.sequence,
            event.created_at.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(),
            event.actor_label,
            event.organization.name if event.organization else "",
            event.action,
            describe(event),
            event.object_type,
            event.object_id,
            event.hash,
        )
        yield writer.writerow([safe_cell(value) for value in row])


@portal_view
@require_GET
def audit_trail_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed, with no cell a spreadsheet would run."""
    _, filters = _filters(request)
    events = selectors_people.audit_trail(user=request.user, filters=filters)
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response
