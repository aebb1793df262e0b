from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from audits.errors import ServiceError
from audits.roles import membership_of
from audits.services.reports import report_verify

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
    """Public: anyone holding a report PDF (or its hash) can check it was issued here."""
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
    else:
        form = ReportVerifyForm()
    return render(
        request,
        "audits/verify.html",
        {"form": form, "outcome": outcome, "membership": membership_of(request.user)},
        status=status,
    )
