"""Lab staff at work: their filings, a new filing, its files and form, the preview, submit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import selectors
from audits.errors import ServiceError, TransitionRefused
from audits.intake.types import IntakeError
from audits.roles import ensure, may_file, may_work_on_filing
from audits.services import intake, submissions
from audits.web import presenters
from audits.web.common import (
    AuthenticatedRequest,
    act_and_redirect,
    intake_errors,
    portal_view,
    service_error,
)
from audits.web.filing_form import FilingForm
from audits.web.forms import (
    DiagnosticsForm,
    EvidenceForm,
    ModelCardForm,
    NewFilingForm,
    SubmitForm,
)
from audits.web.submission import render_submission_page

UPLOADS = {
    "model-card": (ModelCardForm, "model card"),
    "diagnostics": (DiagnosticsForm, "diagnostics file"),
    "evidence": (EvidenceForm, "evidence file"),
}


@portal_view
@require_GET
def filings(request: AuthenticatedRequest) -> HttpResponse:
    rows = selectors.lab_filings(user=request.user)
    return render(
        request,
        "audits/lab/filings.html",
        {"submissions": rows, "form": NewFilingForm(), "section": "filings"},
    )


@portal_view
@require_http_methods(["GET", "POST"])
def filing_new(request: AuthenticatedRequest) -> HttpResponse:
    ensure(may_file(request.user), "Filings are opened by lab staff.")
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


def _attach(request: AuthenticatedRequest, kind: str, submission: Any, form: Any) -> Any:
    upload = form.cleaned_data["file"]
    return intake.upload_attach(
        submission=submission,
        acting_user=request.user,
        kind=kind,
        file_name=upload.name,
        content=upload.read(),
        supersedes=form.cleaned_data.get("supersedes") or "",
        description=form.cleaned_data.get("description") or "",
    )


def _attached_notice(kind: str, outcome: Any) -> str:
    upload_row = outcome.upload
    warnings = len(getattr(upload_row, "warnings", []) or [])
    summary = presenters.extracted_summary(getattr(upload_row, "extracted", None))
    found = (
        f"{len(summary['facts'])} facts, {len(summary['diagnostics'])} diagnostics"
        if kind != "evidence"
        else f"SHA-256 {upload_row.stored_file.sha256[:12]}…"
    )
    notice = f"{upload_row.file_name} attached as {UPLOADS[kind][1]}: {found}"
    return notice + (f", {warnings} warning{'s' if warnings != 1 else ''}." if warnings else ".")


@portal_view
@require_POST
def upload(request: AuthenticatedRequest, reference: str, kind: str) -> HttpResponse:
    """Attach a model card, a diagnostics file or an evidence file to the working revision;
    with `replace` set, the file replaces that upload of the revision being worked on."""
    if kind not in UPLOADS:
        raise Http404(f"There is no upload of kind {kind!r}.")
    form_class, _ = UPLOADS[kind]
    submission = selectors.submission_get(user=request.user, reference=reference)
    form = form_class(request.POST, request.FILES)
    errors: list[dict[str, Any]] = []
    if form.is_valid():
        replace = form.cleaned_data.get("replace")
        try:
            if replace:
                upload_file = form.cleaned_data["file"]
                outcome = intake.upload_replace(
                    submission=submission,
                    acting_user=request.user,
                    kind=kind,
                    upload_id=replace,
                    file_name=upload_file.name,
                    content=upload_file.read(),
                    supersedes=form.cleaned_data.get("supersedes") or "",
                    description=form.cleaned_data.get("description") or "",
                )
            else:
                outcome = _attach(request, kind, submission, form)
        except IntakeError as error:
            errors = intake_errors(error)
        except ServiceError as error:
            # Refused by the filing's state (or size): said at the top of the filing's page.
            messages.error(request, error.message)
            return redirect("submission", reference=reference)
        else:
            messages.success(request, _attached_notice(kind, outcome))
            anchor = f"{kind}-{outcome.upload.pk}"
            target = reverse("submission", kwargs={"reference": reference})
            return redirect(f"{target}?added={anchor}#upload-{anchor}")
    return render_submission_page(
        request, reference, upload_forms={kind: form}, upload_errors={kind: errors}, status=400
    )


@portal_view
@require_POST
def upload_remove(
    request: AuthenticatedRequest, reference: str, kind: str, upload_id: int
) -> HttpResponse:
    """Take a file out of the revision being worked on (the facts are rebuilt without it)."""
    if kind not in UPLOADS:
        raise Http404(f"There is no upload of kind {kind!r}.")
    submission = selectors.submission_get(user=request.user, reference=reference)

    def remove() -> str:
        intake.upload_remove(
            submission=submission, acting_user=request.user, kind=kind, upload_id=upload_id
        )
        return f"The {UPLOADS[kind][1]} was removed from this revision; its facts are gone."

    try:
        return act_and_redirect(request, remove, "submission", reference=reference)
    except IntakeError as error:
        # Removing it would leave inputs that contradict each other.
        for item in intake_errors(error):
            messages.error(request, f"{item['file']}: {item['message']}")
        return redirect("submission", reference=reference)


@portal_view
@require_http_methods(["GET", "POST"])
def filing_form(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """The filing schema's facts as a form; what is entered is attached as a native filing."""
    page = selectors.submission_page(user=request.user, reference=reference)
    submission = page.submission
    # The form of a filing one may not change is refused like changing it.
    ensure(
        may_work_on_filing(request.user, submission),
        f"Only members of {submission.organization.name} may change its filing.",
    )
    if not submission.is_editable:
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; its facts can be "
            "changed in a draft, or after a regulator requests changes."
        )
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
    source = {"file": selectors.portal_source(submission)}
    return (
        {"model": {"name": submission.model.name, "version": submission.model_version}},
        {"model.name": source, "model.version": source},
    )


@portal_view
@require_POST
def filing_preview(request: AuthenticatedRequest, reference: str) -> HttpResponse:
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
@require_http_methods(["GET", "POST"])
def submit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """What will be submitted, at a glance (coverage, gaps, warnings), and the declaration
    the lab makes by submitting it."""
    page = selectors.submission_page(user=request.user, reference=reference)
    submission = page.submission
    ensure(
        may_work_on_filing(request.user, submission),
        f"Only members of {submission.organization.name} may submit its filing.",
    )
    form = SubmitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        resubmission = submission.status == submission.Status.CHANGES_REQUESTED
        try:
            submission = submissions.submission_submit(
                submission=submission,
                acting_user=request.user,
                accuracy_declared=form.cleaned_data["accuracy_declaration"],
            )
        except IntakeError as error:
            for item in intake_errors(error):
                form.add_error(None, f"{item['file']}: {item['message']}")
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            verb = f"Revision {submission.revision} resubmitted" if resubmission else "Submitted"
            messages.success(
                request,
                f"{verb}. {submission.reference} is now with the regulator; a provisional "
                "report is being prepared.",
            )
            return redirect("submission", reference=reference)
    preview = presenters.assessment_view(page.preview) if page.preview else None
    return render(
        request,
        "audits/lab/submit.html",
        {
            "page": page,
            "submission": submission,
            "form": form,
            "assessment": preview,
            "warnings": page.facts.warnings if page.facts else [],
            "declaration": submissions.ACCURACY_DECLARATION,
            "section": "filings",
        },
        status=400 if form.errors else 200,
    )
