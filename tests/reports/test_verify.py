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
def issued(lab_member, one_render_per_module):
    # Every test here only reads the issued report: it is rendered once for the module.
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


# --- signed final reports -------------------------------------------------------------------


@pytest.fixture
def signed(lab_member, reviewer):
    submission, assessment = submitted_filing(
        lab_member=lab_member, reviewer=reviewer, decision="accept"
    )
    report = report_render(
        report_id=pending_report(submission, assessment, kind="final", variant="public").pk
    )
    assert report.status == "ready", report.error
    return report, stored_file_read(report.pdf)


def _appended_update(content: bytes) -> bytes:
    """The signed report with an incremental update after the signature, as an editor
    that 'saves changes' would write: the signed bytes stay, new ones follow."""
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    info = writer.trailer["/Info"]
    info[NameObject("/Subject")] = TextStringObject("Tier lowered by hand")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_signed_final_report_verifies_with_its_signature_and_variant(signed):
    report, content = signed
    outcome = report_verify(content=content)
    assert (outcome["issued"], outcome["state"]) == (True, "issued")
    assert outcome["report"]["variant"] == "public"
    assert outcome["report"]["decision"] == "Accepted"
    signature = outcome["signature"]
    assert signature["valid"] and signature["unmodified"] and signature["by_portal_authority"]
    assert signature["signer_fingerprint"] == report.signer_fingerprint
    assert "signature is valid (PAdES B-B" in outcome["message"]
    assert "unmodified since signing" in outcome["message"]


def test_an_update_appended_after_signing_is_reported_as_modified(signed, tmp_path):
    report, content = signed
    modified = _appended_update(content)
    assert modified.startswith(content)
    outcome = report_verify(content=modified)
    assert (outcome["issued"], outcome["state"]) == (False, "modified")
    assert outcome["signature"]["valid"] is True  # over what it covers…
    assert outcome["signature"]["unmodified"] is False  # …which is no longer the whole file
    assert outcome["report"]["version"] == report.version
    assert "Modified after signing" in outcome["message"]
    assert f"{len(modified) - len(content):,} bytes were added" in outcome["message"]

    path = tmp_path / "modified.pdf"
    path.write_bytes(modified)
    with pytest.raises(CommandError, match="Modified after signing"):
        call_command("verify_report", str(path))


def test_an_unsigned_copy_of_a_signed_report_is_reported_as_such(signed, tmp_path):
    from audits.services.reports import render_report_pdf

    report, content = signed
    unsigned = render_report_pdf(report)
    assert content.startswith(unsigned)
    outcome = report_verify(content=unsigned)
    assert (outcome["issued"], outcome["state"]) == (False, "unsigned_copy")
    assert outcome["signature"] is None
    assert outcome["report"]["version"] == report.version
    assert "Unsigned copy" in outcome["message"]

    page = Client().post(
        reverse("report-verify"),
        {"pdf": SimpleUploadedFile("copy.pdf", unsigned, content_type="application/pdf")},
    )
    html = page.content.decode()
    assert "Unsigned copy of a signed report" in html and "Issued by this portal" not in html

    path = tmp_path / "unsigned.pdf"
    path.write_bytes(unsigned)
    with pytest.raises(CommandError, match="Unsigned copy"):
        call_command("verify_report", str(path))


def test_the_command_prints_the_signature(signed, tmp_path, capsys):
    report, content = signed
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    call_command("verify_report", str(path))
    out = capsys.readouterr().out
    assert "version 1, final, public" in out
    assert "Signature valid, unmodified since signing, the portal's certificate" in out
    assert report.signer_fingerprint in out


def test_a_superseded_report_gets_a_warning_and_a_link_to_the_newest(lab_member, reviewer):
    submission, assessment = submitted_filing(
        lab_member=lab_member, reviewer=reviewer, decision="accept"
    )
    first = report_render(report_id=pending_report(submission, assessment).pk)
    newest = report_render(report_id=pending_report(submission, assessment, kind="final").pk)
    outcome = report_verify(sha256=first.sha256)
    latest = outcome["report"]["latest"]
    assert outcome["report"]["superseded"] is True
    assert (latest["version"], latest["decision"], latest["sha256"]) == (
        2, "Accepted", newest.sha256,
    )  # fmt: skip

    html = Client().post(reverse("report-verify"), {"sha256": first.sha256}).content.decode()
    assert 'class="verify-outcome verify-superseded" role="alert"' in html
    assert "Superseded — do not rely on this version" in html
    assert "<strong>version 2</strong>" in html and "<strong>Accepted</strong>" in html
    link = f"{reverse('report-verify')}?sha256={newest.sha256}"
    assert f'href="{link}"' in html
    assert 'verify-issued"' not in html  # not the green box

    # The link checks the newest version, which is not superseded.
    html = Client().get(link).content.decode()
    assert "Issued by this portal" in html and "verify-superseded" not in html
    assert "Final" in html and "Accepted" in html
