"""The rendered report: its sections in order, its cover, its embedded assessment, and
byte-identical re-rendering."""

import io
import json
import time

from pypdf import PdfReader

from audits.reports.html import SECTION_TITLES
from audits.services.files import stored_file_read
from audits.services.reports import render_report_pdf, report_render
from tests.reports.conftest import pdf_text
from tests.reports.factories import pending_report, submitted_filing


def test_the_standard_report_has_every_section_in_order_and_a_complete_cover(lab_member, reviewer):
    submission, assessment = submitted_filing(
        lab_member=lab_member, reviewer=reviewer, standard=True, decision="accept"
    )
    report = report_render(report_id=pending_report(submission, assessment, kind="final").pk)
    assert report.status == "ready", report.error
    content = stored_file_read(report.pdf)
    text = pdf_text(content)

    positions = [text.find(title) for title in SECTION_TITLES]
    found = dict(zip(SECTION_TITLES, positions, strict=True))
    assert all(position > 0 for position in positions), found
    assert positions == sorted(positions)
    assert text.find("Annex A") > positions[-1]

    cover = text[: positions[0]]
    result = assessment.result
    for expected in (
        submission.reference,
        "Example Lab",
        "Tessellate Coder, version 2.0",
        result["tier"].upper(),
        result["rubric"]["urn"],
        result["rubric"]["version"],
        result["rubric"]["sha256"],
        assessment.facts_sha256,
        "Final report, version 1",
    ):
        assert expected in cover, expected
    page_count = len(PdfReader(io.BytesIO(content)).pages)
    assert f"Page 2 of {page_count}" in text
    assert f"{submission.reference} · Transparency audit report" in text
    # Every criterion of the assessment is in the table; the override sits beside E1.
    for criterion in result["criteria"]:
        assert criterion["explanation"][:40] in text
    assert "ablation study" in text and "automated 2" in text
    assert "Accepted by reviewer" in text


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
