"""Final reports signed as PAdES by the authority: what a recipient's validator sees, what
survives signing, reproducibility, and where the key comes from."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import time

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from audits.reports import signing
from audits.services.files import stored_file_read
from audits.services.reports import render_report_pdf, report_render
from tests.reports.factories import pending_report, submitted_filing
from tests.reports.pki import TimeStampServer, issue, write_pem, write_pkcs12


@pytest.fixture
def decided(lab_member, reviewer):
    return submitted_filing(lab_member=lab_member, reviewer=reviewer, decision="accept")


def _final(decided, variant="confidential"):
    submission, assessment = decided
    report = report_render(
        report_id=pending_report(submission, assessment, kind="final", variant=variant).pk
    )
    assert report.status == "ready", report.error
    return report, stored_file_read(report.pdf)


def _validated(content, trust_roots):
    signature = PdfFileReader(io.BytesIO(content)).embedded_signatures[0]
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    return signature, validate_pdf_signature(signature, context)


def test_a_final_report_is_signed_and_pyhankos_validator_accepts_it(decided):
    report, content = _final(decided)
    identity = signing.signing_identity()
    signature, status = _validated(content, identity.trust_roots())
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.timestamp_validity is None  # no TSA configured: B-B
    assert (report.signature_level, report.signer_fingerprint) == (
        "PAdES B-B", identity.fingerprint,
    )  # fmt: skip
    assert "govportal DEVELOPMENT signing key — not for production" in report.signer_subject
    # The row records the document before signing; the stored file is its signed update.
    assert content.startswith(render_report_pdf(report))
    assert hashlib.sha256(render_report_pdf(report)).hexdigest() == report.unsigned_sha256


def test_signing_keeps_the_pdfa_file_and_its_embedded_assessment(decided):
    report, content = _final(decided)
    reader = PdfReader(io.BytesIO(content))
    assert list(reader.attachments) == ["assessment.json"]
    assert json.loads(reader.attachments["assessment.json"][0]) == report.assessment.result
    metadata = reader.xmp_metadata.stream.get_data()
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in metadata


def test_two_renders_differ_only_in_the_signature_revision(decided):
    """Reproducible in everything but the signature: re-rendering a final report gives the
    same unsigned first revision, and two signatures of it change nothing before it."""
    report, content = _final(decided)
    unsigned = render_report_pdf(report)
    time.sleep(1.1)  # a clock-dependent date or font timestamp would now differ
    assert render_report_pdf(report) == unsigned
    assert content[: len(unsigned)] == unsigned
    assert hashlib.sha256(unsigned).hexdigest() == report.unsigned_sha256
    again = signing.sign_report_pdf(unsigned, reason="r", location="l").content
    assert again != content  # another signing time, another signature
    assert again[: len(unsigned)] == unsigned
    # The signature revision is all that differs: what it appends parses as one update.
    assert PdfFileReader(io.BytesIO(again)).xrefs.total_revisions == 2


def test_pdfsig_reports_a_valid_signature_over_the_whole_document(decided, tmp_path):
    if shutil.which("pdfsig") is None:
        # A recipient's standard tool: CI installs it (.ci/run), so there it must run.
        if os.environ.get("CI"):
            pytest.fail("pdfsig (poppler-utils) is missing and CI is set")
        pytest.skip("pdfsig (poppler-utils) not installed")
    _, content = _final(decided)
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    output = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    assert "Signature is Valid." in output
    assert "Total document signed" in output
    assert "ETSI.CAdES.detached" in output


def test_the_development_key_is_made_once_labelled_and_refused_in_production(settings, tmp_path):
    settings.REPORT_SIGNING_DEV_DIR = tmp_path / "signing"
    identity = signing.signing_identity()
    assert identity.development
    assert identity.subject.startswith("O=govportal development authority,CN=govportal DEVELOPMENT")
    key_file = tmp_path / "signing" / signing.DEVELOPMENT_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert signing.signing_identity() is identity  # loaded once
    settings.REPORT_SIGNING_DEV_DIR = tmp_path / "signing"  # same files, same key
    assert signing.signing_identity().fingerprint == identity.fingerprint

    settings.REPORT_SIGNING_DEVELOPMENT_ALLOWED = False
    with pytest.raises(signing.SigningConfigurationError, match="No signing key is configured"):
        signing.signing_identity()
    # Configured explicitly, the development key is still refused in production.
    settings.REPORT_SIGNING_KEY = key_file
    settings.REPORT_SIGNING_CERT = key_file
    with pytest.raises(signing.SigningConfigurationError, match="refused when DEBUG is off"):
        signing.signing_identity()


def test_the_authoritys_pkcs12_key_signs_and_chains_to_its_root(decided, settings, tmp_path):
    root = issue("Test Root CA")
    authority = issue("Example Authority report signing", issuer=root)
    settings.REPORT_SIGNING_PKCS12 = write_pkcs12(
        tmp_path / "authority.p12", authority, [root], b"correct horse"
    )
    settings.REPORT_SIGNING_PASSPHRASE = "correct horse"
    settings.REPORT_SIGNING_DEVELOPMENT_ALLOWED = False
    identity = signing.signing_identity()
    assert not identity.development
    report, content = _final(decided, variant="public")
    assert report.signer_subject == "C=EU,O=Test Authority,CN=Example Authority report signing"
    _, status = _validated(content, identity.trust_roots())
    assert status.bottom_line and status.trusted
    assert identity.trust_roots()[0].sha256 == hashlib.sha256(root.der()).digest()

    settings.REPORT_SIGNING_PASSPHRASE = "wrong"
    with pytest.raises(signing.SigningConfigurationError, match="REPORT_SIGNING_PASSPHRASE"):
        signing.signing_identity()


def test_a_pem_key_with_its_chain_signs_and_a_tsa_makes_it_pades_b_t(decided, settings, tmp_path):
    root = issue("Test Root CA")
    authority = issue("Example Authority report signing", issuer=root)
    key, cert, chain = write_pem(tmp_path, authority, [root])
    settings.REPORT_SIGNING_KEY, settings.REPORT_SIGNING_CERT = key, cert
    settings.REPORT_SIGNING_CHAIN = chain
    tsa = issue("Test Time-Stamping Authority", issuer=root, tsa=True)
    with TimeStampServer(tsa) as server:
        settings.REPORT_TIMESTAMP_URL = server.url
        report, content = _final(decided)
    assert server.requests == 1
    assert report.signature_level == "PAdES B-T"
    _, status = _validated(content, signing.signing_identity().trust_roots())
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.intact


def test_the_authoritys_certificate_is_public_and_validates_the_signature(decided):
    from cryptography import x509
    from django.test import Client
    from django.urls import reverse

    _, content = _final(decided)
    response = Client().get(reverse("report-signing-certificate"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    certificates = x509.load_pem_x509_certificates(response.content)
    assert (
        certificates[0].fingerprint(signing.hashes.SHA256()).hex()
        == signing.signing_identity().fingerprint
    )
    # What a recipient does: trust the downloaded certificate, validate the report.
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates
    ]
    _, status = _validated(content, roots)
    assert status.bottom_line


def test_signing_works_in_a_thread_whose_event_loop_is_running(decided):
    """An ASGI server or a browser test calls in with a loop running; pyHanko's own
    asyncio.run would refuse there."""
    import asyncio

    report, _ = _final(decided)
    unsigned = render_report_pdf(report)

    async def sign_from_a_coroutine():
        return signing.sign_report_pdf(unsigned, reason="r", location="l")

    signed = asyncio.run(sign_from_a_coroutine())
    assert signed.content.startswith(unsigned)
    _, status = _validated(signed.content, signing.signing_identity().trust_roots())
    assert status.bottom_line
