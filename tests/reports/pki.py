"""A throwaway PKI for signing tests: a root CA, an authority's signing certificate, a
time-stamping authority, and a local RFC 3161 server on loopback."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    key: Any
    certificate: x509.Certificate

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Authority"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EU"),
        ]
    )


def _usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def issue(common_name: str, *, issuer: Issued | None = None, tsa: bool = False) -> Issued:
    """A certificate (EC P-256 for speed; RSA for a TSA, as pyHanko's test TSA signs only
    with RSA): a root CA when `issuer` is None."""
    key = rsa.generate_private_key(65537, 2048) if tsa else ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca = issuer is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name) if ca else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(signing=not ca, ca=ca), critical=True)
    )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    signing_key = key if ca else issuer.key
    return Issued(key=key, certificate=builder.sign(signing_key, hashes.SHA256()))


def write_pkcs12(path: Path, signer: Issued, chain: list[Issued], passphrase: bytes) -> Path:
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"authority",
            signer.key,
            signer.certificate,
            [issued.certificate for issued in chain],
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    return path


def write_pem(directory: Path, signer: Issued, chain: list[Issued]) -> tuple[Path, Path, Path]:
    key = directory / "authority.key.pem"
    cert = directory / "authority.cert.pem"
    chain_file = directory / "chain.pem"
    key.write_bytes(
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(
        b"".join(i.certificate.public_bytes(serialization.Encoding.PEM) for i in chain)
    )
    return key, cert, chain_file


class TimeStampServer:
    """An RFC 3161 time-stamping authority on 127.0.0.1, answering with pyHanko's dummy
    TSA signer; counts the requests it answered."""

    def __init__(self, tsa: Issued) -> None:
        from pyhanko.sign.timestamps import DummyTimeStamper

        stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(tsa.der()),
            tsa_key=asn1_keys.PrivateKeyInfo.load(
                tsa.key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
        )
        server = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = tsp.TimeStampReq.load(body)
                response = asyncio.run(stamper.async_request_tsa_response(request)).dump()
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(response)))
                self.end_headers()
                self.wfile.write(response)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TimeStampServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
