"""Verifying reports: a genuine PDF, a modified one, an unknown hash; the command and the
public /verify/ page."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfWriter

from audits.reports.verify import embedded_assessment
from audits.services.files import stored_file_read
from audits.services.reports import report_render, report_verify
from tests.reports.factories import pending_report, submitted_filing


@pytest.fixture
def issued(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = report_render(report_id=pending_report(submission, assessment).pk)
    return report, stored_file_read(report.pdf)


def _modified(content: bytes) -> bytes:
    """The report re-saved with one change, as an editing tool would: the attachment and
    every page survive, the hash does not."""
    writer = PdfWriter(clone_from=io.BytesIO(content))
    writer.add_metadata({"/Subject": "Tier lowered by hand"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_genuine_pdf_is_identified_with_its_report(issued):
    report, content = issued
    outcome = report_verify(content=content)
    assert outcome["issued"] is True
    assert outcome["sha256"] == report.sha256
    assert outcome["report"]["reference"] == report.submission.reference
    assert (outcome["report"]["revision"], outcome["report"]["version"]) == (1, 1)
    assert outcome["report"]["kind"] == "provisional"
    assert outcome["embedded_assessment"] == "matches"
    assert report_verify(sha256=report.sha256.upper())["issued"] is True


def test_a_modified_pdf_was_not_issued_but_its_embedded_assessment_is_still_readable(issued):
    report, content = issued
    modified = _modified(content)
    outcome = report_verify(content=modified)
    assert outcome["issued"] is False
    assert outcome["report"] is None
    assert "not issued by this portal" in outcome["message"]
    assert "altered" in outcome["message"]
    assert embedded_assessment(modified) == report.assessment.result


def test_an_unknown_hash_and_a_non_pdf_were_not_issued(db):
    assert report_verify(sha256="0" * 64)["issued"] is False
    outcome = report_verify(content=b"just some bytes")
    assert outcome["issued"] is False and outcome["embedded_assessment"] == "absent"


def test_the_command_names_the_report_or_fails(issued, tmp_path, capsys):
    report, content = issued
    genuine = tmp_path / "report.pdf"
    genuine.write_bytes(content)
    call_command("verify_report", str(genuine))
    out = capsys.readouterr().out
    assert report.submission.reference in out and "version 1, provisional" in out
    assert "Revision  1" in out

    forged = tmp_path / "forged.pdf"
    forged.write_bytes(_modified(content))
    with pytest.raises(CommandError, match="not issued by this portal"):
        call_command("verify_report", str(forged))


def test_the_verify_page_is_public_and_checks_an_upload_or_a_hash(issued):
    report, content = issued
    client = Client()
    assert client.get(reverse("report-verify")).status_code == 200

    upload = SimpleUploadedFile("report.pdf", content, content_type="application/pdf")
    response = client.post(reverse("report-verify"), {"pdf": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Issued by this portal" in page and report.submission.reference in page
    assert "Example Lab" in page

    response = client.post(reverse("report-verify"), {"sha256": hashlib.sha256(b"x").hexdigest()})
    assert "Not issued by this portal" in response.content.decode()

    response = client.post(reverse("report-verify"), {"sha256": "not-a-hash"})
    assert response.status_code == 400 and "64 hexadecimal" in response.content.decode()


def test_the_verify_page_needs_a_csrf_token_and_refuses_huge_uploads(issued, settings):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("report-verify"), {"sha256": "0" * 64}).status_code == 403

    from audits.web import views

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    limit = views.VERIFY_MAX_UPLOAD_BYTES
    just_over = SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * limit)
    response = Client().post(reverse("report-verify"), {"pdf": just_over})
    assert response.status_code == 400 and "larger than" in response.content.decode()
    far_over = SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * (limit + 200_000))
    assert Client().post(reverse("report-verify"), {"pdf": far_over}).status_code == 413
