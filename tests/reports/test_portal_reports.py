"""The portal's side of reports: conditions on the decision form, both variants in the
reports panel, a regulator's corrected final report."""

import pytest
from django.test import Client
from django.urls import reverse

from audits.models import AuditEvent, Report, Review
from audits.services import submissions as lifecycle
from audits.services.reports import report_render
from tests.conftest import make_draft
from tests.signing_in import sign_in


def client_for(user):
    return sign_in(Client(), user)


@pytest.fixture
def under_review(lab_member, reviewer):
    # Requested reports are handed over after commit, which a test's transaction never
    # reaches: they stay pending until a test renders them.
    submission = lifecycle.submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    return lifecycle.submission_start_review(submission=submission, acting_user=reviewer)


def test_accepting_with_conditions_one_per_line(under_review, reviewer):
    response = client_for(reviewer).post(
        reverse("decide", args=[under_review.reference]),
        {
            "decision": "accept",
            "rationale": "Bounded.",
            "conditions": "Publish the probe study.\r\n\r\n  Re-run SAD on the release.  \n",
        },
    )
    assert response.status_code == 302
    assert Review.objects.get().conditions == [
        "Publish the probe study.",
        "Re-run SAD on the release.",
    ]


def test_conditions_go_with_an_acceptance_only(under_review, reviewer):
    response = client_for(reviewer).post(
        reverse("decide", args=[under_review.reference]),
        {"decision": "reject", "rationale": "No.", "conditions": "Something."},
    )
    assert response.status_code == 400
    assert "Conditions go with an acceptance" in response.content.decode()
    assert not Review.objects.exists()


def test_the_panel_offers_both_variants_and_regulators_a_correction(
    under_review, reviewer, lab_member
):
    lifecycle.submission_accept(submission=under_review, acting_user=reviewer, rationale="Fine.")
    for report in Report.objects.filter(status="pending"):
        report_render(report_id=report.pk)
    reference = under_review.reference
    lab_panel = client_for(lab_member).get(reverse("reports", args=[reference])).content.decode()
    assert "Download PDF" in lab_panel and "Public PDF" in lab_panel
    assert "Signed, PAdES B-B" in lab_panel
    assert "Issue a corrected final report" not in lab_panel
    public = client_for(lab_member).get(
        reverse("report-pdf", args=[reference, 2]) + "?variant=public"
    )
    assert public["Content-Disposition"].endswith(f'{reference}-report-v2-final-public.pdf"')
    assert (
        b"".join(public.streaming_content)
        == Report.objects.get(submission=under_review, version=2, variant="public").pdf.blob.read()
    )

    regulator_panel = client_for(reviewer).get(reverse("reports", args=[reference])).content
    assert b"Issue a corrected final report" in regulator_panel
    response = client_for(reviewer).post(
        reverse("report-correct", args=[reference]), {"reason": "Wrong authority name."}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="report.correct").exists()
    assert Report.objects.filter(submission=under_review, version=3, kind="final").count() == 2

    refused = client_for(reviewer).post(reverse("report-correct", args=[reference]), {"reason": ""})
    assert refused.status_code == 409 and b"needs a written reason" in refused.content
    assert (
        client_for(lab_member)
        .post(reverse("report-correct", args=[reference]), {"reason": "Mine."})
        .status_code
        == 403
    )
