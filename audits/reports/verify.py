"""Reading reports back: the embedded assessment of a PDF, and a PDF's hash among issued
reports."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from audits.reports.html import ATTACHMENT_NAME

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The embedded assessment is tens of kilobytes; a larger one is not ours.
MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024


class NotAReport(ValueError):
    """The bytes are not a PDF the report reader can open."""


def normalize_sha256(text: str) -> str | None:
    """A SHA-256 as stored (lower-case hex), or None if `text` is not one."""
    candidate = text.strip().lower()
    return candidate if _SHA256.match(candidate) else None


def embedded_assessment(content: bytes) -> dict[str, Any] | None:
    """The `assessment.json` embedded in a report PDF, parsed; None if it carries none.

    Raises NotAReport when `content` cannot be read as a PDF.
    """
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        attachments = reader.attachments
        payloads = attachments.get(ATTACHMENT_NAME) if attachments else None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise NotAReport(f"not a readable PDF: {error}") from None
    if not payloads:
        return None
    payload = payloads[0]
    if len(payload) > MAX_ATTACHMENT_BYTES:
        return None
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def issued_report_for(sha256: str) -> Any | None:
    """The ready Report whose PDF has this SHA-256, or None if the portal never issued it."""
    from audits.models import Report

    return (
        Report.objects.filter(sha256=sha256, status=Report.Status.READY)
        .select_related("submission__organization", "submission__model", "assessment")
        .order_by("id")
        .first()
    )
