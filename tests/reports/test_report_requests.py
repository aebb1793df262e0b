"""Report versions on request: none from a lab after a decision, a corrected final report
only from a regulator and with a reason, and a per-filing hourly limit (issue 16 item 5)."""

import pytest
from rest_framework.test import APIClient

from audits.errors import NotPermitted, ServiceError
from audits.models import AuditEvent, Report
from audits.services import submissions as lifecycle
from audits.services.files import stored_file_read
from audits.services.reports import (
    ReportRateLimited,
    report_correct,
    report_provisional_request,
    report_render,
    report_verify,
)
from tests.conftest import make_draft
from tests.reports.conftest import pdf_text
from tests.signing_in import sign_in


@pytest.fixture
def quiet_reports():
    """Requested versions stay pending: they are handed over after commit, which a test's
    transaction never reaches (the outbox's own tests cover the hand-over)."""


@pytest.fixture
def under_review(lab_member, reviewer):
    submission = lifecycle.submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    return lifecycle.submission_start_review(submission=submission, acting_user=reviewer)


@pytest.fixture
def accepted(under_review, reviewer):
    return lifecycle.submission_accept(
        submission=under_review,
        acting_user=reviewer,
        rationale="Disclosed and bounded.",
        conditions=["Publish the probe study.", "  ", "Re-run SAD on the release."],
    )


def _render_pending():
    # Requests render after their transaction commits, which a test's never does.
    for report in Report.objects.filter(status="pending"):
        report_render(report_id=report.pk)


def _api(user):
    return sign_in(APIClient(), user)


def test_a_lab_requests_provisional_reports_until_the_decision_then_no_more(
    quiet_reports, under_review, lab_member, reviewer
):
    report = report_provisional_request(submission=under_review, acting_user=lab_member)
    assert (report.version, report.kind) == (2, "provisional")
    lifecycle.submission_reject(
        submission=under_review, acting_user=reviewer, rationale="Evidence contradicts itself."
    )
    versions = Report.objects.filter(submission=under_review).count()
    for user in (lab_member, reviewer):
        with pytest.raises(ServiceError, match="is rejected: its final report stands"):
            report_provisional_request(submission=under_review, acting_user=user)
    response = _api(lab_member).post(f"/api/v1/submissions/{under_review.reference}/reports/")
    assert response.status_code == 422
    assert "no provisional report follows a decision" in response.json()["error"]["message"]
    assert Report.objects.filter(submission=under_review).count() == versions


def test_another_lab_cannot_request_a_report(quiet_reports, under_review, other_lab_member):
    with pytest.raises(NotPermitted):
        report_provisional_request(submission=under_review, acting_user=other_lab_member)


def test_only_a_regulator_issues_a_corrected_final_report_with_a_reason(
    quiet_reports, accepted, lab_member, second_reviewer, reviewer
):
    for user in (lab_member, second_reviewer):  # the lab; a reviewer not assigned
        with pytest.raises(NotPermitted):
            report_correct(submission=accepted, acting_user=user, reason="Typo in the rationale.")
    with pytest.raises(ServiceError, match="needs a written reason"):
        report_correct(submission=accepted, acting_user=reviewer, reason="   ")
    previous = Report.objects.filter(submission=accepted, kind="final").get(variant="public")

    corrected = report_correct(
        submission=accepted, acting_user=reviewer, reason="The authority's name was misspelt."
    )
    rows = Report.objects.filter(submission=accepted, version=corrected.version)
    assert {(r.kind, r.variant) for r in rows} == {("final", "confidential"), ("final", "public")}
    assert {r.corrects_version for r in rows} == {previous.version}
    event = AuditEvent.objects.filter(action="report.correct").get()
    assert event.actor == reviewer
    assert event.payload == {
        "version": corrected.version,
        "corrects_version": previous.version,
        "reason": "The authority's name was misspelt.",
    }


def test_a_correction_needs_a_decided_filing(quiet_reports, under_review, reviewer):
    with pytest.raises(ServiceError, match="a corrected final report follows a decision"):
        report_correct(submission=under_review, acting_user=reviewer, reason="Why not.")


def test_the_corrected_report_prints_its_reason_and_supersedes_the_first(
    accepted, reviewer, regulator_admin
):
    _render_pending()
    first = Report.objects.get(submission=accepted, kind="final", variant="confidential")
    assert first.status == "ready", first.error
    corrected = report_correct(
        submission=accepted, acting_user=regulator_admin, reason="The conditions were swapped."
    )
    _render_pending()
    corrected.refresh_from_db()
    text = pdf_text(stored_file_read(corrected.pdf))
    assert "Corrected final report" in text
    assert f"It corrects final report version {first.version}" in text
    assert "The conditions were swapped." in text
    assert "Publish the probe study." in text and "Re-run SAD on the release." in text
    outcome = report_verify(sha256=first.sha256)
    assert outcome["report"]["superseded"] is True
    assert outcome["report"]["latest"]["version"] == corrected.version
    assert outcome["report"]["latest"]["decision"] == "Accepted"


def test_requests_are_limited_per_filing_and_hour(
    quiet_reports, under_review, lab_member, settings
):
    settings.REPORT_REQUESTS_PER_HOUR = 3  # the submission's own provisional report counts
    report_provisional_request(submission=under_review, acting_user=lab_member)
    report_provisional_request(submission=under_review, acting_user=lab_member)
    with pytest.raises(ReportRateLimited, match="at most 3 per hour") as refused:
        report_provisional_request(submission=under_review, acting_user=lab_member)
    assert 3500 < refused.value.retry_after <= 3600

    response = _api(lab_member).post(f"/api/v1/submissions/{under_review.reference}/reports/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 3500
    assert "at most 3 per hour" in response.json()["error"]["message"]
    assert Report.objects.filter(submission=under_review).count() == 3


def test_a_corrected_final_report_is_limited_too(quiet_reports, accepted, reviewer, settings):
    settings.REPORT_REQUESTS_PER_HOUR = 2  # the provisional and the final version
    with pytest.raises(ReportRateLimited):
        report_correct(submission=accepted, acting_user=reviewer, reason="Once more.")
    client = _api(reviewer)
    response = client.post(
        f"/api/v1/submissions/{accepted.reference}/reports/corrections/",
        {"reason": "Once more."},
        format="json",
    )
    assert response.status_code == 429


def test_the_api_offers_both_variants_and_corrections(accepted, reviewer, lab_member):
    _render_pending()
    reference = accepted.reference
    listing = _api(lab_member).get(f"/api/v1/submissions/{reference}/reports/").json()
    finals = [row for row in listing["results"] if row["kind"] == "final"]
    assert {row["variant"] for row in finals} == {"confidential", "public"}
    assert all(row["signature_level"] == "PAdES B-B" for row in finals)
    public = next(row for row in finals if row["variant"] == "public")
    assert public["download"].endswith(f"/reports/{public['version']}/pdf/?variant=public")
    for user in (lab_member, reviewer):
        for variant in ("confidential", "public"):
            response = _api(user).get(
                f"/api/v1/submissions/{reference}/reports/{public['version']}/pdf/",
                {"variant": variant},
            )
            assert response.status_code == 200
            expected = next(row for row in finals if row["variant"] == variant)
            assert response["X-Content-SHA256"] == expected["sha256"]
    bad = _api(lab_member).get(
        f"/api/v1/submissions/{reference}/reports/{public['version']}/pdf/", {"variant": "x"}
    )
    assert bad.status_code == 400

    refused = _api(lab_member).post(
        f"/api/v1/submissions/{reference}/reports/corrections/", {"reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    response = _api(reviewer).post(
        f"/api/v1/submissions/{reference}/reports/corrections/",
        {"reason": "The rationale named the wrong revision."},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["corrects_version"] == public["version"]
    assert response.json()["correction_reason"] == "The rationale named the wrong revision."


def test_the_api_accepts_conditions_with_an_acceptance(quiet_reports, under_review, reviewer):
    response = _api(reviewer).post(
        f"/api/v1/submissions/{under_review.reference}/accept/",
        {"rationale": "Bounded.", "conditions": ["Publish the probe study."]},
        format="json",
    )
    assert response.status_code == 200
    assert under_review.reviews.get().conditions == ["Publish the probe study."]
