"""The regulator authority's signature on final reports: PAdES with pyHanko.

A final report is rendered to PDF/A-3b as before, then signed in an incremental update:
the rendered bytes stay, unchanged, as the document's first revision, and a second
revision adds an invisible signature field whose CMS signature (ETSI.CAdES.detached,
PAdES B-B; B-T when a time-stamping authority is configured) covers the whole file. So
the embedded `assessment.json` survives, and everything but the signature revision is
reproducible: re-rendering the same inputs gives the same first revision.

The key is the authority's, configured from the environment (settings
`REPORT_SIGNING_PKCS12`, or `REPORT_SIGNING_KEY` + `REPORT_SIGNING_CERT` [+ chain]). In the
embedded mode with none configured, a development key and self-signed certificate are
made on first use under `var/signing/`, labelled as such in the certificate's subject;
with DEBUG off that key is refused.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEVELOPMENT_LABEL = "govportal DEVELOPMENT signing key — not for production"
DEVELOPMENT_FILE = "development-signing-key.pem"
SIGNATURE_FIELD = "AuthoritySignature"
LEVEL_B_B = "PAdES B-B"
LEVEL_B_T = "PAdES B-T"


class SigningConfigurationError(Exception):
    """The signing key cannot be used; the message names the setting and what to do."""


class TimestampUnavailable(ConnectionError):
    """The time-stamping authority did not answer; signing is retried like any outage."""


class _AuthoritySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with the private key parsed once.

    SimpleSigner parses its key again for every signature, and for RSA the `cryptography`
    library then checks the key's consistency: ≈ 0.1 s per report, more than the rest of
    signing together.
    """

    def __init__(self, *, private_key: Any, certificate: x509.Certificate, chain: list[Any]):
        der_key = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signing_cert = asn1_x509.Certificate.load(
            certificate.public_bytes(serialization.Encoding.DER)
        )
        chain_certs = [
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
            for cert in chain
        ]
        super().__init__(
            signing_cert=signing_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([signing_cert, *chain_certs]),
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algorithm)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algorithm))
        return super().sign_raw(data, digest_algorithm)


@dataclass(frozen=True)
class SigningIdentity:
    """The authority's signing key and certificate, as reports name them."""

    signer: _AuthoritySigner
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    development: bool

    @property
    def subject(self) -> str:
        return certificate_subject(self.certificate)

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The certificates a signature by this identity is checked against: the chain's
        last certificate (its root), or the signing certificate itself when self-signed."""
        anchor = self.chain[-1] if self.chain else self.certificate
        return [asn1_x509.Certificate.load(anchor.public_bytes(serialization.Encoding.DER))]


@dataclass(frozen=True)
class SignedPdf:
    content: bytes
    unsigned_sha256: str
    level: str
    subject: str
    fingerprint: str
    signed_at: datetime


def certificate_subject(certificate: x509.Certificate) -> str:
    """`CN=…, O=…, C=…` (RFC 4514), as pdfsig and most viewers show it."""
    return certificate.subject.rfc4514_string()


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 of the certificate's DER bytes, lower-case hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningConfigurationError(
            f"{setting}={path}: cannot read ({error.strerror})"
        ) from None


def _load_pkcs12(
    path: Path, passphrase: bytes | None
) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            _read(path, "REPORT_SIGNING_PKCS12"), passphrase
        )
    except ValueError as error:
        raise SigningConfigurationError(
            f"REPORT_SIGNING_PKCS12={path}: cannot open it ({error}); check "
            "REPORT_SIGNING_PASSPHRASE"
        ) from None
    if key is None or certificate is None:
        raise SigningConfigurationError(
            f"REPORT_SIGNING_PKCS12={path} must hold a private key and its certificate"
        )
    return key, certificate, list(chain)


def _load_pem_certificates(path: Path, setting: str) -> list[x509.Certificate]:
    data = _read(path, setting)
    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise SigningConfigurationError(
                f"{setting}={path} holds no PEM or DER certificate"
            ) from None


def _load_pem(
    key_path: Path, cert_path: Path, chain_path: Path | None, passphrase: bytes | None
) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    data = _read(key_path, "REPORT_SIGNING_KEY")
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except (ValueError, TypeError) as error:
        raise SigningConfigurationError(
            f"REPORT_SIGNING_KEY={key_path}: cannot load the private key ({error}); check "
            "REPORT_SIGNING_PASSPHRASE"
        ) from None
    certificate, *rest = _load_pem_certificates(cert_path, "REPORT_SIGNING_CERT")
    chain = rest + (
        _load_pem_certificates(chain_path, "REPORT_SIGNING_CHAIN") if chain_path else []
    )
    return key, certificate, chain


def _development_certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_LABEL),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govportal development authority"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )


def _development_identity(directory: Path) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    """The development key and certificate, made once per `var/` directory.

    Written to a temporary file and linked into place, so processes starting together
    agree on one key: the second link fails and that process reads the first one's file.
    """
    path = directory / DEVELOPMENT_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        pem = new_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ) + _development_certificate(new_key).public_bytes(serialization.Encoding.PEM)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".signing-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
            os.chmod(temporary, 0o600)
            try:
                os.link(temporary, path)
                logger.warning("made a development signing key at %s", path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    data = path.read_bytes()
    key = serialization.load_pem_private_key(data, None)
    return key, x509.load_pem_x509_certificate(data), []


def _is_development(certificate: x509.Certificate) -> bool:
    return any(
        DEVELOPMENT_LABEL in str(attribute.value)
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )


_IDENTITY_LOCK = threading.Lock()


@functools.cache
def _identity(
    pkcs12_path: Path | None,
    key_path: Path | None,
    cert_path: Path | None,
    chain_path: Path | None,
    passphrase: bytes | None,
    development_dir: Path,
    development_allowed: bool,
) -> SigningIdentity:
    if pkcs12_path:
        key, certificate, chain = _load_pkcs12(pkcs12_path, passphrase)
    elif key_path and cert_path:
        key, certificate, chain = _load_pem(key_path, cert_path, chain_path, passphrase)
    elif development_allowed:
        key, certificate, chain = _development_identity(development_dir)
    else:
        raise SigningConfigurationError(
            "No signing key is configured: set REPORT_SIGNING_PKCS12 (or REPORT_SIGNING_KEY "
            "and REPORT_SIGNING_CERT)."
        )
    development = _is_development(certificate)
    if development and not development_allowed:
        raise SigningConfigurationError(
            "The configured signing certificate is the development one "
            f"({DEVELOPMENT_LABEL!r}); it is refused when DEBUG is off. Configure the "
            "authority's own key."
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningConfigurationError("The signing key must be an RSA or EC private key.")
    signer = _AuthoritySigner(private_key=key, certificate=certificate, chain=chain)
    return SigningIdentity(
        signer=signer, certificate=certificate, chain=tuple(chain), development=development
    )


def signing_identity() -> SigningIdentity:
    """The authority's signing identity from the settings (loaded once per process)."""
    with _IDENTITY_LOCK:
        return _identity(
            settings.REPORT_SIGNING_PKCS12,
            settings.REPORT_SIGNING_KEY,
            settings.REPORT_SIGNING_CERT,
            settings.REPORT_SIGNING_CHAIN,
            settings.REPORT_SIGNING_PASSPHRASE.encode() or None,
            Path(settings.REPORT_SIGNING_DEV_DIR),
            bool(settings.REPORT_SIGNING_DEVELOPMENT_ALLOWED),
        )


def _bytes_reserved(identity: SigningIdentity, timestamped: bool) -> int:
    # A fixed reservation: pyHanko otherwise signs twice to estimate the size, and every
    # signed report of one identity has the same length. The certificates travel in the
    # CMS; the reservation is counted in hex digits, two per byte.
    certificates = sum(
        len(certificate.public_bytes(serialization.Encoding.DER))
        for certificate in (identity.certificate, *identity.chain)
    )
    return 2 * (4096 + certificates + (8192 if timestamped else 0))


def _outside_event_loop(work: Callable[[], T]) -> T:
    """Run `work` where no event loop runs: pyHanko's synchronous API calls asyncio.run,
    which refuses a thread whose loop is already running (an ASGI server, a browser test
    driving Playwright); such a caller's signature is made in a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def sign_report_pdf(
    pdf: bytes, *, reason: str, location: str, identity: SigningIdentity | None = None
) -> SignedPdf:
    """Sign a rendered report as the authority (PAdES B-B, or B-T with a TSA)."""
    identity = identity or signing_identity()
    timestamp_url = settings.REPORT_TIMESTAMP_URL
    timestamper = (
        HTTPTimeStamper(timestamp_url, timeout=settings.REPORT_TIMESTAMP_TIMEOUT)
        if timestamp_url
        else None
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    try:
        pdf_signer = signers.PdfSigner(metadata, signer=identity.signer, timestamper=timestamper)
        reserved = _bytes_reserved(identity, timestamper is not None)
        output = _outside_event_loop(lambda: pdf_signer.sign_pdf(writer, bytes_reserved=reserved))
    except TimestampRequestError as error:
        raise TimestampUnavailable(
            f"The time-stamping authority at {timestamp_url} did not answer "
            f"({error.__cause__ or error})"
        ) from error
    except SigningError as error:
        raise SigningConfigurationError(f"Signing failed: {error}") from error
    content = output.getvalue()
    signature = PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures[0]
    signed_at = signature.self_reported_timestamp or datetime.now(UTC)
    return SignedPdf(
        content=content,
        unsigned_sha256=hashlib.sha256(pdf).hexdigest(),
        level=LEVEL_B_T if timestamper else LEVEL_B_B,
        subject=identity.subject,
        fingerprint=identity.fingerprint,
        signed_at=signed_at,
    )
