"""Lab staff at work: their filings, a new filing, its files and form, the preview, submit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import selectors
from audits.errors import NotPermitted, ServiceError
from audits.intake.types import IntakeError
from audits.roles import require_lab_member, require_membership
from audits.services import intake, submissions
from audits.web import presenters
from audits.web.common import intake_errors, portal_view, service_error
from audits.web.filing_form import FilingForm
from audits.web.forms import DiagnosticsForm, EvidenceForm, ModelCardForm, NewFilingForm
from audits.web.submission import render_submission_page

UPLOADS = {
    "model-card": (ModelCardForm, "model card"),
    "diagnostics": (DiagnosticsForm, "diagnostics file"),
    "evidence": (EvidenceForm, "evidence file"),
}


@portal_view
@require_GET
def filings(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request.user)
    if not membership.organization.is_lab:
        raise NotPermitted("Filings are made by lab staff; regulators work from the review queue.")
    rows = selectors.lab_filings(user=request.user)
    return render(
        request,
        "audits/lab/filings.html",
        {"submissions": rows, "form": NewFilingForm(), "section": "filings"},
    )


@portal_view
@require_http_methods(["GET", "POST"])
def filing_new(request: HttpRequest) -> HttpResponse:
    if not require_membership(request.user).organization.is_lab:
        raise NotPermitted("Filings are opened by lab staff.")
    form = NewFilingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = submissions.submission_create(
                acting_user=request.user,
                model_name=form.cleaned_data["model_name"],
                model_version=form.cleaned_data["model_version"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Draft {submission.reference} opened. Add a model card or fill the filing form.",
            )
            return redirect("submission", reference=submission.reference)
    return render(
        request,
        "audits/lab/filing_new.html",
        {"form": form, "section": "filings"},
        status=400 if form.errors else 200,
    )


def _attach(request: HttpRequest, kind: str, submission: Any, form: Any) -> Any:
    upload = form.cleaned_data["file"]
    content = upload.read()
    if kind == "model-card":
        return intake.model_card_attach(
            submission=submission, acting_user=request.user, file_name=upload.name, content=content
        )
    if kind == "diagnostics":
        return intake.diagnostics_attach(
            submission=submission,
            acting_user=request.user,
            file_name=upload.name,
            content=content,
            supersedes=form.cleaned_data.get("supersedes") or "",
        )
    return intake.evidence_attach(
        submission=submission,
        acting_user=request.user,
        file_name=upload.name,
        content=content,
        description=form.cleaned_data.get("description") or "",
    )


@portal_view
@require_POST
def upload(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    """Attach a model card, a diagnostics file or an evidence file to the working revision."""
    if kind not in UPLOADS:
        raise Http404(f"There is no upload of kind {kind!r}.")
    form_class, label = UPLOADS[kind]
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = form_class(request.POST, request.FILES)
    errors: list[dict[str, Any]] = []
    if form.is_valid():
        try:
            outcome = _attach(request, kind, submission, form)
        except IntakeError as error:
            errors = intake_errors(error)
        except ServiceError as error:
            # Refused by the filing's state (or size): said at the top of the filing's page.
            messages.error(request, error.message)
            return redirect("submission", reference=reference)
        else:
            upload_row = outcome.upload
            warnings = len(getattr(upload_row, "warnings", []) or [])
            summary = presenters.extracted_summary(getattr(upload_row, "extracted", None))
            found = (
                f"{len(summary['facts'])} facts, {len(summary['diagnostics'])} diagnostics"
                if kind != "evidence"
                else f"SHA-256 {upload_row.stored_file.sha256[:12]}…"
            )
            notice = f"{upload_row.file_name} attached as {label}: {found}"
            notice += f", {warnings} warning{'s' if warnings != 1 else ''}." if warnings else "."
            messages.success(request, notice)
            target = reverse("submission", kwargs={"reference": reference})
            return redirect(f"{target}?added={kind}-{upload_row.pk}#upload-{kind}-{upload_row.pk}")
    return render_submission_page(
        request, reference, upload_forms={kind: form}, upload_errors={kind: errors}, status=400
    )


@portal_view
@require_http_methods(["GET", "POST"])
def filing_form(request: HttpRequest, reference: str) -> HttpResponse:
    """The filing schema's facts as a form; what is entered is attached as a native filing."""
    page = selectors.submission_page(user=request.user, reference=reference)
    submission = page.submission
    # The form of a filing one may not change is refused like changing it.
    require_lab_member(request.user, submission.organization)
    intake.working_revision(submission)
    document, provenance = _working_facts(page)
    form = FilingForm(request.POST or None, document=document, provenance=provenance)
    errors: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            intake.filing_document_attach(
                submission=submission,
                acting_user=request.user,
                document=form.filing_document(),
                file_name=f"filing-form-{submission.reference}.json",
            )
        except IntakeError as error:
            errors = intake_errors(error)
        except ServiceError as error:
            errors = service_error(error)
        else:
            messages.success(request, f"{form.entered} facts from the filing form attached.")
            return redirect("submission", reference=reference)
    preview = page.preview
    view = presenters.assessment_view(preview) if preview else None
    return render(
        request,
        "audits/lab/filing_form.html",
        {
            "page": page,
            "submission": submission,
            "form": form,
            "errors": errors,
            "assessment": view,
            "section": "filings",
        },
        status=400 if (errors or form.errors) else 200,
    )


def _working_facts(page: selectors.SubmissionPage) -> tuple[dict[str, Any], dict[str, Any]]:
    if page.facts is not None and page.facts.revision == page.working_revision:
        return page.facts.document, page.facts.provenance
    submission = page.submission
    return (
        {"model": {"name": submission.model.name, "version": submission.model_version}},
        {
            "model.name": {"file": intake.SUBMISSION_SOURCE},
            "model.version": {"file": intake.SUBMISSION_SOURCE},
        },
    )


@portal_view
@require_POST
def filing_preview(request: HttpRequest, reference: str) -> HttpResponse:
    """The live preview while the filing form is filled in (htmx): nothing is stored."""
    page = selectors.submission_page(user=request.user, reference=reference)
    document, provenance = _working_facts(page)
    form = FilingForm(request.POST, document=document, provenance=provenance)
    if not form.is_valid():
        return render(
            request,
            "audits/lab/_preview.html",
            {"form_invalid": True, "form": form},
        )
    preview = selectors.assessment_preview(
        user=request.user, reference=reference, document=form.filing_document()
    )
    view = presenters.assessment_view(preview.result) if preview.result else None
    return render(
        request,
        "audits/lab/_preview.html",
        {
            "assessment": view,
            "errors": [
                {
                    "message": e.message,
                    "file": e.location.file,
                    "line": e.location.line,
                    "field": e.location.field,
                }
                for e in preview.errors
            ],
            "live": True,
        },
    )


@portal_view
@require_POST
def submit(request: HttpRequest, reference: str) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, reference=reference)
    resubmission = submission.status == submission.Status.CHANGES_REQUESTED
    try:
        submission = submissions.submission_submit(submission=submission, acting_user=request.user)
    except IntakeError as error:
        for item in intake_errors(error):
            messages.error(request, f"{item['file']}: {item['message']}")
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        verb = f"Revision {submission.revision} resubmitted" if resubmission else "Submitted"
        messages.success(
            request,
            f"{verb}. {submission.reference} is now with the regulator; a provisional report "
            "is being prepared.",
        )
    return redirect("submission", reference=reference)
