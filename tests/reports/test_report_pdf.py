"""The rendered report: its sections in order, its cover, its embedded assessment, and
byte-identical re-rendering."""

import io
import json
import re
import time

from pypdf import PdfReader

from audits.reports.html import SECTION_TITLES
from audits.services.files import stored_file_read
from audits.services.reports import render_report_pdf, report_render
from tests.reports.conftest import pdf_text
from tests.reports.factories import pending_report, submitted_filing


def test_the_standard_report_has_every_section_in_order_and_a_complete_cover(lab_member, reviewer):
    submission, assessment = submitted_filing(
        lab_member=lab_member,
        reviewer=reviewer,
        standard=True,
        decision="accept",
        conditions=["Publish the probe study within 90 days.", "Re-run SAD on the release."],
    )
    reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
    reviewer.save()
    report = report_render(report_id=pending_report(submission, assessment, kind="final").pk)
    assert report.status == "ready", report.error
    content = stored_file_read(report.pdf)
    text = pdf_text(content)

    contents = text.find("Contents")
    cover, body = text[:contents], text[contents:]
    result = assessment.result
    for expected in (
        submission.reference,
        "Example Lab",
        "Tessellate Coder, version 2.0",
        result["tier"].upper(),
        f"{result['rubric']['urn']}, version {result['rubric']['version']} (in force)",
        result["rubric"]["sha256"],
        assessment.facts_sha256,
        "Final report, version 1 · confidential variant",
        # The decision, who took it and for which authority, on the cover.
        "DECISION Accepted by Rita Reviewer (reviewer), Authority",
        "2 conditions",
        # The software beside the rubric and engine versions.
        f"rubric engine version {result['engine_version']} · govportal 0.1.0",
        # An absolute verification address, and the signing certificate.
        "http://127.0.0.1:8000/verify/",
        report.signer_fingerprint,
    ):
        assert expected in cover, expected

    # The table of contents lists every section with the page it starts on.
    page_count = len(PdfReader(io.BytesIO(content)).pages)
    reader = PdfReader(io.BytesIO(content))
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    for number, title in enumerate(SECTION_TITLES, start=1):
        match = re.search(rf"{number} {re.escape(title)} \.*\s*(\d+)", body)
        assert match, title
        page = int(match.group(1))
        assert f"{number} {title}" in pages[page - 1], (title, page)
    assert re.search(r"Annex A — The lab's narrative, as filed \.*\s*\d+", body)

    after_toc = body[body.find("1 Executive summary", body.find("Annex A")) :]
    positions = [after_toc.find(title) for title in SECTION_TITLES]
    assert all(position >= 0 for position in positions), dict(
        zip(SECTION_TITLES, positions, strict=True)
    )
    assert positions == sorted(positions)
    assert after_toc.find("Annex A") > positions[-1]

    assert f"Page 2 of {page_count}" in text
    assert f"{submission.reference} · Transparency audit report" in text
    # Every criterion of the assessment is in the table; the override sits beside E1.
    for criterion in result["criteria"]:
        assert criterion["explanation"][:40] in text
    assert "ablation study" in text and "automated 2" in text
    assert "Accepted by Rita Reviewer (reviewer) for Authority" in text
    conditions = text.find("Conditions and outstanding items")
    assert 0 < conditions < text.find("Publish the probe study within 90 days.")
    scope = after_toc[positions[2] : positions[3]]
    assert "does not establish" in scope and "lab's own declaration" in scope
    assert "unless it is marked verified" in scope


def test_a_provisional_report_says_so_on_its_cover(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = report_render(report_id=pending_report(submission, assessment).pk)
    cover = pdf_text(stored_file_read(report.pdf)).split("Contents")[0]
    assert "DECISION Provisional — under review" in cover
    assert "Provisional report · version 1" in cover
    assert not report.is_signed and not report.unsigned_sha256


def test_the_embedded_json_is_the_stored_assessment(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = report_render(report_id=pending_report(submission, assessment).pk)
    reader = PdfReader(io.BytesIO(stored_file_read(report.pdf)))
    attachments = reader.attachments
    assert list(attachments) == ["assessment.json"]
    assert json.loads(attachments["assessment.json"][0]) == assessment.result
    # PDF/A-3b: the variant that allows an embedded file, declared with its relationship.
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in reader.xmp_metadata.stream.get_data()
    filespec = reader.trailer["/Root"]["/AF"][0].get_object()
    assert filespec["/AFRelationship"] == "/Data"


def test_the_same_stored_inputs_render_byte_identical_pdfs(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)
    first = render_report_pdf(report)
    time.sleep(1.1)  # a clock-dependent date or font timestamp would now differ
    second = render_report_pdf(report)
    assert first == second
    assert b"/CreationDate (D:20260302091500Z)" in first
