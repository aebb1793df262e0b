"""The report pages of the portal: public verification, and a corrected final report."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audits import selectors
from audits.errors import ServiceError
from audits.roles import membership_of
from audits.services import reports
from audits.services.reports import ReportRateLimited, report_verify, signing_certificate_pem
from audits.web.common import portal_view

# A report is a few hundred kilobytes; anything far larger is refused before it is read.
VERIFY_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ReportVerifyForm(forms.Form):
    pdf = forms.FileField(label="Report PDF", required=False)
    sha256 = forms.CharField(label="or its SHA-256", required=False, max_length=100, strip=True)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        pdf, sha256 = cleaned.get("pdf"), cleaned.get("sha256")
        if not pdf and not sha256:
            raise forms.ValidationError("Upload a report PDF or paste its SHA-256.")
        if pdf is not None and getattr(pdf, "size", 0) > VERIFY_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {VERIFY_MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                "no report the portal issues is that large."
            )
        return cleaned


@require_http_methods(["GET", "POST"])
def report_verify_page(request: HttpRequest) -> HttpResponse:
    """Public: anyone holding a report PDF (or its hash) can check it was issued here.

    `?sha256=…` checks a hash without a form post, so a superseded report's page can link
    to its newest version's.
    """
    outcome = None
    status = 200
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > VERIFY_MAX_UPLOAD_BYTES + 64 * 1024:
            return render(
                request,
                "audits/verify.html",
                {
                    "form": ReportVerifyForm(),
                    "refusal": "The upload is too large to be a report issued by this portal.",
                },
                status=413,
            )
        form = ReportVerifyForm(request.POST, request.FILES)
    elif request.GET.get("sha256"):
        form = ReportVerifyForm({"sha256": request.GET["sha256"]})
    else:
        form = ReportVerifyForm()
    if form.is_bound:
        if form.is_valid():
            pdf = form.cleaned_data.get("pdf")
            try:
                if pdf is not None:
                    outcome = report_verify(content=pdf.read())
                else:
                    outcome = report_verify(sha256=form.cleaned_data["sha256"])
            except ServiceError as error:
                form.add_error("sha256", error.message)
        if not form.is_valid() or form.errors:
            status = 400
    return render(
        request,
        "audits/verify.html",
        {"form": form, "outcome": outcome, "membership": membership_of(request.user)},
        status=status,
    )


@require_http_methods(["GET"])
def signing_certificate(request: HttpRequest) -> HttpResponse:
    """Public: the authority's signing certificate and its chain (PEM), for validators."""
    return HttpResponse(
        signing_certificate_pem(),
        content_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="report-signing-certificate.pem"'},
    )


@portal_view
@require_POST
def report_correct_page(request: HttpRequest, reference: str) -> HttpResponse:
    """A regulator issues a corrected final report of a decided filing, with a reason."""
    submission = selectors.submission_get(user=request.user, reference=reference)
    target = reverse("submission", kwargs={"reference": reference})
    try:
        report = reports.report_correct(
            submission=submission,
            acting_user=request.user,
            reason=str(request.POST.get("reason", "")),
        )
    except ReportRateLimited as error:
        return render(request, "409.html", {"reason": error.message}, status=429)
    messages.success(
        request,
        f"Corrected final report version {report.version} requested; both variants are "
        "being rendered and signed.",
    )
    return redirect(f"{target}#reports-panel")
