"""Lab staff in the portal: filings, the new-filing flow, uploads, the form, the preview, submit."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audits.intake.filing import filing_schema, schema_leaf_paths
from audits.models import AuditEvent, DiagnosticUpload, Evidence, ModelCard, Submission
from audits.services import submissions as lifecycle
from tests.conftest import make_draft
from tests.web.conftest import client_for

E2E_DATA = Path(__file__).resolve().parents[1] / "e2e" / "data"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad"

pytestmark = pytest.mark.django_db


def _upload(client, submission, kind, path, **extra):
    content = path.read_bytes() if isinstance(path, Path) else path
    name = path.name if isinstance(path, Path) else "upload.bin"
    return client.post(
        reverse("upload", args=[submission.reference, kind]),
        {"file": SimpleUploadedFile(name, content), **extra},
    )


def test_the_dashboard_lists_the_labs_filings_only(lab_member, other_lab_member):
    own = make_draft(lab_member, "Atlas", "1")
    other = make_draft(other_lab_member, "Orion", "1")
    response = client_for(lab_member).get(reverse("filings"))
    assert response.status_code == 200
    assert own.reference in response.content.decode()
    assert other.reference not in response.content.decode()


@pytest.mark.parametrize("count", [1, 6])
def test_the_dashboard_costs_the_same_queries_for_many_filings(
    count, lab_member, django_assert_num_queries
):
    for version in range(count):
        lifecycle.submission_submit(
            submission=make_draft(lab_member, "Atlas", str(version)),
            acting_user=lab_member,
            accuracy_declared=True,
        )
    client = client_for(lab_member)
    client.get(reverse("filings"))  # warm: the session's first read
    # session, user, membership, the nav's check, the filings (one query for the list), the
    # bell's unread count.
    with django_assert_num_queries(6):
        assert client.get(reverse("filings")).status_code == 200


def test_a_new_filing_opens_a_draft(lab_member):
    response = client_for(lab_member).post(
        reverse("filing-new"), {"model_name": "Nimbus", "model_version": "0.1"}
    )
    submission = Submission.objects.get(model__name="Nimbus")
    assert submission.status == "draft"
    assert response["Location"] == reverse("submission", args=[submission.reference])


def test_a_new_filing_needs_name_and_version(lab_member):
    response = client_for(lab_member).post(reverse("filing-new"), {"model_name": "Nimbus"})
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_a_model_card_upload_shows_what_was_extracted_and_its_warnings(lab_member):
    submission = make_draft(lab_member, "Aurora", "1.0")
    client = client_for(lab_member)
    response = _upload(client, submission, "model-card", E2E_DATA / "aurora-README.md")
    assert response.status_code == 302
    card = ModelCard.objects.get(submission=submission, file_name="aurora-README.md")
    page = client.get(response["Location"]).content.decode()
    assert "aurora-README.md attached as model card: 30 facts" in page
    assert f'id="upload-model-card-{card.pk}" class="just-added"' in page
    assert "the govportal value is used" in page  # the importer's warning
    assert "Assessment preview" in page and "What is missing" in page
    assert "planning.lookahead_probe_accuracy" in page  # a gap, named exactly


def test_the_card_narrative_is_shown_without_its_html(lab_member, reviewer):
    submission = make_draft(lab_member, "Aurora", "1.0")
    client = client_for(lab_member)
    _upload(client, submission, "model-card", E2E_DATA / "aurora-README.md")
    lifecycle.submission_submit(
        submission=submission, acting_user=lab_member, accuracy_declared=True
    )
    page = client_for(reviewer).get(reverse("submission", args=[submission.reference]))
    html = page.content.decode()
    assert "<strong>multi-step literature reviews</strong>" in html
    assert "<script>alert" not in html


def test_a_bad_diagnostics_file_is_refused_with_file_line_and_field(lab_member):
    submission = make_draft(lab_member)
    response = _upload(
        client_for(lab_member), submission, "diagnostics", BAD / "diagnostics" / "ragged.csv"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="intake-errors"' in html
    assert "ragged.csv" in html and "line " in html
    assert not DiagnosticUpload.objects.filter(submission=submission).exists()


def test_a_diagnostics_file_and_evidence_are_attached(lab_member):
    submission = make_draft(lab_member)
    client = client_for(lab_member)
    response = _upload(client, submission, "diagnostics", E2E_DATA / "aurora-diagnostics.csv")
    assert response.status_code == 302
    response = _upload(
        client, submission, "evidence", b"probe study", description="Probe study of planning"
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(submission=submission)
    assert evidence.description == "Probe study of planning"
    download = client.get(
        reverse("file-download", args=[submission.reference, evidence.stored_file.sha256])
    )
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"probe study"


def test_an_unknown_upload_kind_is_not_found(lab_member):
    submission = make_draft(lab_member)
    response = _upload(client_for(lab_member), submission, "poems", b"roses")
    assert response.status_code == 404


def test_the_filing_form_has_one_field_per_schema_fact(lab_member):
    submission = make_draft(lab_member)
    html = client_for(lab_member).get(reverse("filing-form", args=[submission.reference]))
    html = html.content.decode()
    properties = filing_schema()["properties"]
    for path in schema_leaf_paths():
        assert f'name="{path.replace(".", "__")}"' in html, path
        section, name = path.split(".")
        for value in properties[section]["properties"][name].get("enum", []):
            assert f'value="{value}"' in html, (path, value)


def test_supplied_facts_are_read_only_with_their_source(lab_member):
    submission = make_draft(lab_member)
    html = client_for(lab_member).get(reverse("filing-form", args=[submission.reference]))
    html = html.content.decode()
    assert 'name="model__developer"' in html
    assert "Supplied by filing.json" in html


def test_the_filing_form_attaches_what_was_entered(lab_member):
    submission = make_draft(lab_member)
    client = client_for(lab_member)
    response = client.post(
        reverse("filing-form", args=[submission.reference]),
        {
            "model__scope": "general_purpose",
            "training__human_data": "true",
            "training__objectives": ["rlhf", "self_supervised"],
            "deployment__context_window_tokens": "32000",
        },
    )
    assert response.status_code == 302
    facts = submission.facts.get(revision=1).document
    assert facts["model"]["scope"] == "general_purpose"
    assert facts["training"]["human_data"] is True
    assert sorted(facts["training"]["objectives"]) == ["rlhf", "self_supervised"]
    assert facts["deployment"]["context_window_tokens"] == 32000
    assert "tool_use" not in facts.get("deployment", {})  # not stated stays missing


def test_the_filing_form_refuses_a_negative_number(lab_member):
    submission = make_draft(lab_member)
    response = client_for(lab_member).post(
        reverse("filing-form", args=[submission.reference]), {"model__parameters": "-5"}
    )
    assert response.status_code == 400
    assert "parameters" not in submission.facts.get(revision=1).document["model"]


def test_the_live_preview_assesses_without_storing(lab_member):
    submission = make_draft(lab_member)
    response = client_for(lab_member).post(
        reverse("filing-preview", args=[submission.reference]),
        {"model__scope": "general_purpose", "deployment__autonomy": "autonomous_agent"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview tier" in html and "What is missing" in html
    assert "autonomy" not in submission.facts.get(revision=1).document.get("deployment", {})
    assert not submission.assessments.exists()


def test_submit_and_answer_a_change_request(lab_member, under_review, reviewer):
    lifecycle.submission_request_changes(
        submission=under_review, acting_user=reviewer, rationale="Add SAD results."
    )
    client = client_for(lab_member)
    page = client.get(reverse("submission", args=[under_review.reference])).content.decode()
    assert "Add SAD results." in page and "Resubmit as revision 2" in page
    _upload(client, under_review, "diagnostics", E2E_DATA / "aurora-diagnostics.csv")
    url = reverse("submit", args=[under_review.reference])
    summary = client.get(url).content.decode()
    assert "Resubmit as revision 2" in summary and "Coverage" in summary
    assert "I declare that the facts, diagnostics and evidence" in summary
    # Without the declaration nothing is submitted.
    refused = client.post(url)
    assert refused.status_code == 400
    assert "Tick the declaration to submit." in refused.content.decode()
    under_review.refresh_from_db()
    assert under_review.status == "changes_requested"
    response = client.post(url, {"accuracy_declaration": "on"})
    assert response.status_code == 302
    under_review.refresh_from_db()
    assert (under_review.status, under_review.revision) == ("submitted", 2)
    revision = under_review.revisions.get(number=2)
    assert revision.declaration.startswith("I declare that the facts")
    event = AuditEvent.objects.filter(action="submission.submit").last()
    assert event.payload["declaration"] == revision.declaration


def test_files_cannot_be_added_while_under_review(lab_member, under_review):
    client = client_for(lab_member)
    response = _upload(client, under_review, "evidence", b"late", description="too late")
    assert response.status_code == 302
    assert "files can be added to a draft" in client.get(response["Location"]).content.decode()
    assert not Evidence.objects.filter(submission=under_review).exists()


def test_the_reports_panel_polls_only_while_a_report_is_pending(lab_member, under_review):
    from audits.models import Report
    from audits.services.reports import report_request

    client = client_for(lab_member)
    draft = make_draft(lab_member, "Atlas", "draft")
    html = client.get(reverse("reports", args=[draft.reference])).content.decode()
    assert "hx-trigger" not in html
    report_request(submission=under_review, kind="provisional")
    url = reverse("reports", args=[under_review.reference])
    html = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in html and "pending" in html
    Report.objects.filter(submission=under_review).update(status="failed", error="Font missing.")
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html and "Font missing." in html
