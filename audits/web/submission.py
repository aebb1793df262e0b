"""One filing's page, for its lab (a workspace) and for regulators (a review), and its files."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audits import selectors
from audits.errors import ServiceError
from audits.models import Report, Submission
from audits.roles import (
    is_regulator,
    is_regulator_admin,
    may_assign,
    may_decide,
    may_work_on_filing,
)
from audits.services import review
from audits.services.audit_log import download_record
from audits.services.files import stored_file_open
from audits.web import presenters
from audits.web.common import AuthenticatedRequest, portal_view
from audits.web.forms import (
    AssignForm,
    CommentForm,
    DecisionForm,
    DiagnosticsForm,
    EvidenceForm,
    ModelCardForm,
    OverrideForm,
)

Status = Submission.Status
EDITABLE = (Status.DRAFT, Status.CHANGES_REQUESTED)


def _uploads(rows: list[Any], kind: str, added: str) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "kind": kind,
            "anchor": f"upload-{kind}-{row.pk}",
            "just_added": added == f"{kind}-{row.pk}",
            "summary": presenters.extracted_summary(getattr(row, "extracted", None)),
            "warnings": getattr(row, "warnings", []) or [],
        }
        for row in rows
    ]


def submission_context(
    request: AuthenticatedRequest,
    page: selectors.SubmissionPage,
    *,
    upload_forms: dict[str, Any] | None = None,
    upload_errors: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    submission = page.submission
    rubric_content = page.rubric.content if page.rubric else None
    facts = page.facts
    comments = page.comments_by_criterion
    assessment = (
        presenters.assessment_view(
            page.assessment.result,
            overrides=page.overrides,
            comments=comments,
            rubric_content=rubric_content,
        )
        if page.assessment
        else None
    )
    preview = (
        presenters.assessment_view(page.preview, rubric_content=rubric_content)
        if page.preview
        else None
    )
    diagnostics, diagnostics_chart = presenters.diagnostics_view(
        facts.document if facts else None, rubric_content
    )
    added = request.GET.get("added", "")
    # Template keys cannot hold a hyphen: "model-card" is "model_card" there.
    forms = {
        "model_card": ModelCardForm(),
        "diagnostics": DiagnosticsForm(),
        "evidence": EvidenceForm(),
        **{kind.replace("-", "_"): form for kind, form in (upload_forms or {}).items()},
    }
    regulator = is_regulator(request.user)
    context: dict[str, Any] = {
        "page": page,
        "submission": submission,
        "facts": facts,
        "facts_sections": presenters.facts_sections(
            facts.document if facts else None, facts.provenance if facts else None
        ),
        "narrative": presenters.narrative_view(facts.narrative if facts else None),
        "assessment": assessment,
        "preview": preview,
        "diagnostics": diagnostics,
        "diagnostics_chart": diagnostics_chart,
        "model_cards": _uploads(page.model_cards, "model-card", added),
        "diagnostic_uploads": _uploads(page.diagnostics, "diagnostics", added),
        "evidence": _uploads(page.evidence, "evidence", added),
        "upload_forms": forms,
        "upload_errors": {
            kind.replace("-", "_"): errors for kind, errors in (upload_errors or {}).items()
        },
        "editable": submission.is_editable and may_work_on_filing(request.user, submission),
        "reports": page.reports,
        "reports_pending": any(r.status in ("pending", "running") for r in page.reports),
        "reviews": page.reviews,
        "general_comments": comments.get("", []),
        "comment_form": CommentForm(),
        "section": "queue" if regulator else "filings",
        "diff": page.assessment.diff if page.assessment and page.assessment.diff else None,
        "rescored_from": page.assessment.rescored_from if page.assessment else None,
        "now": timezone.now(),
    }
    if regulator:
        reviewing = (
            may_decide(request.user, submission) and submission.status == Status.UNDER_REVIEW
        )
        reviewers = [
            member
            for member in selectors.regulator_reviewers(user=request.user)
            if may_assign(request.user, submission, member.user)
        ]
        context.update(
            {
                "may_decide": reviewing,
                "may_override": reviewing,
                "pending_overrides": [
                    override
                    for override in page.overrides.values()
                    if override.status == override.Status.PENDING
                ],
                "assign_form": AssignForm(
                    reviewers=reviewers,
                    initial={"reviewer": submission.assigned_to_id or request.user.pk},
                ),
                "may_assign": bool(reviewers)
                and submission.status
                in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.CHANGES_REQUESTED),
                "may_reassign": is_regulator_admin(request.user),
                "decision_form": DecisionForm(),
                "override_form": OverrideForm(),
            }
        )
    return context


def render_submission_page(
    request: AuthenticatedRequest,
    reference: str,
    *,
    upload_forms: dict[str, Any] | None = None,
    upload_errors: dict[str, list[dict[str, Any]]] | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    page = selectors.submission_page(user=request.user, reference=reference)
    context = submission_context(
        request, page, upload_forms=upload_forms, upload_errors=upload_errors
    )
    context.update(extra or {})
    template = (
        "audits/regulator/submission.html"
        if is_regulator(request.user)
        else "audits/lab/submission.html"
    )
    return render(request, template, context, status=status)


@portal_view
@require_GET
def submission_detail(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    return render_submission_page(request, reference)


@portal_view
@require_GET
def reports_panel(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """The reports list, polled by htmx while a report is being rendered."""
    submission, reports = selectors.submission_reports(user=request.user, reference=reference)
    return render(
        request,
        "audits/partials/reports.html",
        {
            "submission": submission,
            "reports": reports,
            "reports_pending": any(r.status in ("pending", "running") for r in reports),
        },
    )


@portal_view
@require_GET
def report_download(request: AuthenticatedRequest, reference: str, version: int) -> FileResponse:
    variant = request.GET.get("variant") or Report.Variant.CONFIDENTIAL
    if variant not in Report.Variant.values:
        raise Report.DoesNotExist(f"No {variant!r} variant.")
    report = selectors.report_get(
        user=request.user, reference=reference, version=version, variant=variant
    )
    if report.status != Report.Status.READY or report.pdf is None:
        raise Report.DoesNotExist(f"Report v{version} of {reference} is not ready.")
    suffix = "-public" if report.variant == Report.Variant.PUBLIC else ""
    name = f"{reference}-report-v{report.version}-{report.kind}{suffix}.pdf"
    download_record(
        submission=report.submission,
        acting_user=request.user,
        what="report",
        file_name=name,
        sha256=report.sha256,
    )
    return FileResponse(
        stored_file_open(report.pdf),
        as_attachment=True,
        filename=name,
        content_type="application/pdf",
    )


@portal_view
@require_GET
def file_download(request: AuthenticatedRequest, reference: str, sha256: str) -> FileResponse:
    upload = selectors.submission_file_get(user=request.user, reference=reference, sha256=sha256)
    stored, name = upload.stored_file, upload.file_name
    download_record(
        submission=upload.submission,
        acting_user=request.user,
        what="evidence",
        file_name=name,
        sha256=stored.sha256,
    )
    # Always a download, never rendered inline: an uploaded HTML file must not run here.
    response = FileResponse(
        stored_file_open(stored),
        as_attachment=True,
        filename=name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view
@require_POST
def comment(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A comment needs some text.")
    else:
        try:
            review.comment_add(
                submission=submission,
                acting_user=request.user,
                body=form.cleaned_data["body"],
                criterion=form.cleaned_data.get("criterion") or "",
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Comment added.")
    criterion = form.cleaned_data.get("criterion") if form.is_valid() else ""
    anchor = f"#criterion-{criterion}" if criterion else "#comments"
    return redirect(reverse("submission", kwargs={"reference": reference}) + anchor)
