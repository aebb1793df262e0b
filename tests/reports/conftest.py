"""Fixtures for report tests: rendered PDFs and their text."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """All text of a PDF, pages joined, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
