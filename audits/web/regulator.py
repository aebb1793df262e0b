"""Regulators at work: the review queue, assignment, overrides, decisions, rubric versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audits import selectors, selectors_rubrics
from audits.errors import ServiceError
from audits.models import RescoreOutcome, RubricPublication
from audits.roles import is_regulator
from audits.services import assessment, review, rubrics, submissions
from audits.web.common import AuthenticatedRequest, act_and_redirect, is_htmx, portal_view
from audits.web.forms import (
    AssignForm,
    DecisionForm,
    OverrideForm,
    OverrideResolutionForm,
    QueueFilterForm,
)
from audits.web.submission import render_submission_page

QUEUE_PAGE_SIZE = 50
PUBLICATION_PAGE_SIZE = 50
PUBLICATION_FAILURES_SHOWN = 100
RECENT_PUBLICATIONS = 10
DECISIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "request_changes": (submissions.submission_request_changes, "Changes requested"),
    "accept": (submissions.submission_accept, "Accepted"),
    "reject": (submissions.submission_reject, "Rejected"),
}
QUEUE_COLUMNS = (
    ("reference", "Reference"),
    ("lab", "Lab"),
    (None, "Model"),
    ("status", "Status"),
    ("tier", "Tier"),
    ("score", "Score"),
    (None, "Coverage"),
    (None, "Assigned to"),
    ("submitted", "Submitted"),
    ("due", "Review due"),
)


def queue_filter_form(request: AuthenticatedRequest) -> QueueFilterForm:
    labs = [(lab.slug, lab.name) for lab in selectors.queue_labs(user=request.user)]
    return QueueFilterForm(request.GET or None, labs=labs)


@portal_view
@require_GET
def queue(request: AuthenticatedRequest) -> HttpResponse:
    form = queue_filter_form(request)
    filters = form.filters()
    rows = selectors.review_queue(user=request.user, filters=filters)
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    columns = []
    for key, label in QUEUE_COLUMNS:
        if key is None:
            columns.append({"label": label})
            continue
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        next_sort = key if current and descending else f"-{key}" if current else key
        params = query.copy()
        params["sort"] = next_sort
        columns.append(
            {
                "label": label,
                "url": f"?{params.urlencode()}",
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return render(
        request,
        "audits/regulator/queue.html",
        {
            "form": form,
            "filters": filters,
            "page_obj": page,
            "columns": columns,
            "query": query.urlencode(),
            "now": timezone.now(),
            "section": "queue",
        },
    )


@portal_view
@require_POST
def start_review(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)

    def start() -> str:
        submissions.submission_start_review(submission=submission, acting_user=request.user)
        return f"{reference} is under review."

    return act_and_redirect(request, start, "submission", reference=reference)


@portal_view
@require_POST
def assign(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)
    reviewers = list(selectors.regulator_reviewers(user=request.user))
    form = AssignForm(request.POST, reviewers=reviewers)
    if not form.is_valid():
        messages.error(request, "Choose a reviewer of your regulator.")
        return redirect("submission", reference=reference)
    reviewer = next(m.user for m in reviewers if m.user_id == form.cleaned_data["reviewer"])

    def assign_reviewer() -> str:
        submissions.submission_assign(
            submission=submission, acting_user=request.user, reviewer=reviewer
        )
        return f"{reference} assigned to {reviewer.get_username()}."

    return act_and_redirect(request, assign_reviewer, "submission", reference=reference)


@portal_view
@require_POST
def override_resolve(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """Confirm or drop an override carried from an earlier revision."""
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = OverrideResolutionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to confirm or drop the override, and say why to drop it.")
        return redirect("submission", reference=reference)
    criterion, note = form.cleaned_data["criterion"], form.cleaned_data["reason"]

    def resolve() -> str:
        if form.cleaned_data["resolution"] == "confirm":
            review.override_confirm(
                submission=submission, acting_user=request.user, criterion=criterion, reason=note
            )
            return f"The override of {criterion} is confirmed for this revision."
        review.override_drop(
            submission=submission, acting_user=request.user, criterion=criterion, reason=note
        )
        return f"The override of {criterion} is dropped; the automated level stands."

    return act_and_redirect(request, resolve, "submission", reference=reference)


@portal_view
@require_POST
def override(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = OverrideForm(request.POST)
    criterion = request.POST.get("criterion", "")
    if form.is_valid():
        try:
            review.criterion_override(
                submission=submission,
                acting_user=request.user,
                criterion=form.cleaned_data["criterion"],
                level=form.cleaned_data["level"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            form.add_error(
                "reason" if error.details.get("field") == "reason" else None, error.message
            )
        else:
            messages.success(
                request, f"{criterion} overridden to level {form.cleaned_data['level']}."
            )
            target = reverse("submission", kwargs={"reference": reference})
            return redirect(f"{target}#criterion-{criterion}")
    return render_submission_page(
        request,
        reference,
        status=400,
        extra={"override_errors": {criterion: form}},
    )


@portal_view
@require_POST
def decide(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = DecisionForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        service, label = DECISIONS[decision]
        conditions = form.cleaned_data["conditions"]
        options: dict[str, Any] = {}
        if decision == "accept":
            options["conditions"] = conditions
        elif decision == "request_changes":
            options["answer_by"] = form.cleaned_data["answer_by"]
        try:
            if conditions and decision != "accept":
                raise ServiceError("Conditions go with an acceptance; leave them empty.")
            # The decision service also requests the report (final on accept or reject).
            service(
                submission=submission,
                acting_user=request.user,
                rationale=form.cleaned_data["rationale"],
                **options,
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"{label}: {reference}. The lab has been told.")
            return redirect("submission", reference=reference)
    return render_submission_page(
        request, reference, status=400, extra={"decision_form": form, "decision_open": True}
    )


@portal_view
@require_GET
def rubric_list(request: AuthenticatedRequest) -> HttpResponse:
    versions = selectors.rubrics_published(user=request.user)
    # Labs read the method too; only regulators see the publications and their re-scoring.
    publications = (
        selectors_rubrics.rubric_publications(user=request.user)[:RECENT_PUBLICATIONS]
        if is_regulator(request.user)
        else []
    )
    return render(
        request,
        "audits/regulator/rubrics.html",
        {"rubrics": versions, "publications": publications, "section": "rubrics"},
    )


@portal_view
@require_POST
def rubric_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Put a stored rubric version in force; its filings are re-scored in the background."""
    rubric = selectors.rubrics_published(user=request.user).get(pk=pk)
    try:
        published = rubrics.rubric_publish(rubric=rubric, acting_user=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("rubrics")
    if not published.started:
        messages.warning(request, f"{rubric} is already in force; nothing was re-scored again.")
        if published.publication is None:
            return redirect("rubrics")
    else:
        messages.success(
            request, f"{rubric} is in force. Every filed submission is being re-scored under it."
        )
    assert published.publication is not None
    return redirect("rubric-publication", pk=published.publication.pk)


def _publication_context(request: AuthenticatedRequest, pk: int) -> dict[str, Any]:
    publication = selectors_rubrics.rubric_publication_get(user=request.user, pk=pk)
    failures = selectors_rubrics.rubric_publication_outcomes(
        user=request.user, publication=publication, status=RescoreOutcome.Status.FAILED
    )
    return {
        "publication": publication,
        "failures": failures[:PUBLICATION_FAILURES_SHOWN],
        "failure_count": publication.failed,
    }


@portal_view
@require_GET
def rubric_publication(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A publication's progress while it runs; then what it changed, filing by filing."""
    context = _publication_context(request, pk)
    publication = context["publication"]
    tier_changed_only = request.GET.get("changed") == "tier"
    diffs = selectors_rubrics.rubric_publication_outcomes(
        user=request.user,
        publication=publication,
        status=RescoreOutcome.Status.RESCORED,
        tier_changed_only=tier_changed_only,
    )
    page = Paginator(diffs, PUBLICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audits/regulator/publication.html",
        {
            **context,
            "page_obj": page,
            "tier_changed_only": tier_changed_only,
            "section": "rubrics",
        },
    )


@portal_view
@require_GET
def rubric_publication_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The progress panel, polled by htmx while the re-scoring runs."""
    context = _publication_context(request, pk)
    response = render(request, "audits/partials/publication_progress.html", context)
    if is_htmx(request) and context["publication"].state == RubricPublication.State.DONE:
        # Finished: reload the whole page once, so the diff table appears.
        response["HX-Refresh"] = "true"
    return response


@portal_view
@require_POST
def rubric_publication_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = selectors_rubrics.rubric_publication_get(user=request.user, pk=pk)
    try:
        assessment.rubric_publication_retry_failed(
            publication=publication, acting_user=request.user
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The {publication.failed} failed filings are re-scored again.")
    return redirect("rubric-publication", pk=pk)
