"""Reading reports back: the embedded assessment of a PDF, its signature, and a PDF's
hash among issued reports."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from audits.reports.html import ATTACHMENT_NAME

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class SignatureCheck:
    """What a report's embedded signature says about it.

    `sound`: the signature is cryptographically valid over the bytes it covers;
    `covers_whole_file`: nothing was appended after signing (an incremental update after
    the signature counts as a modification); `trusted`: the signer's certificate chains
    to the authority's configured root; `signed_revision_sha256`: the SHA-256 of the file
    as it was when signed, to find the report it was issued as.
    """

    sound: bool
    covers_whole_file: bool
    trusted: bool
    signer_subject: str
    signer_fingerprint: str
    signed_at: datetime | None
    timestamped: bool
    signed_revision_sha256: str
    signed_bytes: int
    signature_count: int
    problem: str = ""

    @property
    def intact(self) -> bool:
        """Valid and unmodified since signing."""
        return self.sound and self.covers_whole_file


def _subject(certificate: Any) -> str:
    from cryptography import x509

    return x509.load_der_x509_certificate(certificate.dump()).subject.rfc4514_string()


def signature_check(content: bytes, *, trust_roots: list[Any]) -> SignatureCheck | None:
    """Check the first signature of a PDF; None if it carries none.

    Raises NotAReport when `content` cannot be read as a PDF. Nothing is fetched: the
    signer's certificate is checked against `trust_roots` without revocation look-ups.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise NotAReport(f"not a readable PDF: {error}") from None
    if not signatures:
        return None
    signature = signatures[0]
    _, _, second_start, second_length = (int(n) for n in signature.byte_range)
    signed_revision = content[: second_start + second_length]
    revision_sha256 = hashlib.sha256(signed_revision).hexdigest()
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context, skip_diff=True)
    except Exception as error:  # a malformed signature is a finding, not a crash
        logger.info("signature could not be validated: %s", error)
        certificate = getattr(signature, "signer_cert", None)
        return SignatureCheck(
            sound=False,
            covers_whole_file=False,
            trusted=False,
            signer_subject=_subject(certificate) if certificate is not None else "",
            signer_fingerprint=hashlib.sha256(certificate.dump()).hexdigest()
            if certificate is not None
            else "",
            signed_at=None,
            timestamped=False,
            signed_revision_sha256=revision_sha256,
            signed_bytes=len(signed_revision),
            signature_count=len(signatures),
            problem=f"the signature cannot be validated ({type(error).__name__})",
        )
    certificate = status.signing_cert
    return SignatureCheck(
        sound=bool(status.intact and status.valid),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
        signer_subject=_subject(certificate),
        signer_fingerprint=hashlib.sha256(certificate.dump()).hexdigest(),
        signed_at=status.signer_reported_dt,
        timestamped=status.timestamp_validity is not None,
        signed_revision_sha256=revision_sha256,
        signed_bytes=len(signed_revision),
        signature_count=len(signatures),
    )


def issued_report_signed_as(sha256: str) -> Any | None:
    """The ready, signed Report whose PDF before signing has this SHA-256, or None."""
    from audits.models import Report

    return (
        Report.objects.filter(unsigned_sha256=sha256, status=Report.Status.READY)
        .select_related("submission__organization", "submission__model", "assessment")
        .order_by("id")
        .first()
    )
