"""Fixtures for report tests: rendered PDFs and their text."""

import io
from datetime import datetime

import pytest
from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """All text of a PDF, pages joined, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture(scope="module")
def one_render_per_module():
    """Tests of a module that only read a rendered report share its rendering.

    A report's bytes are a function of its HTML and date (`write_report_pdf` promises it
    and test_report_pdf proves it), so the PDF of inputs already rendered in this module is
    the one a second rendering would produce; it is reused instead of laid out again
    (about two seconds each). Inputs that differ are rendered for real.
    """
    from audits.services import reports

    rendered: dict[tuple[str, datetime], bytes] = {}
    real = reports.write_report_pdf

    def once(html: str, *, dated: datetime) -> bytes:
        if (html, dated) not in rendered:
            rendered[html, dated] = real(html, dated=dated)
        return rendered[html, dated]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports, "write_report_pdf", once)
        yield rendered
