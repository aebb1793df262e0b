"""`manage.py verify_report FILE.pdf`: which report a PDF is, whether its signature holds,
or that it was never issued (modified, unsigned copy, unknown)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.errors import ServiceError
from audits.services.reports import report_verify


class Command(BaseCommand):
    help = (
        "Check a transparency audit report PDF against the reports this portal issued and "
        "its signature: prints the submission, revision, report version and variant, or "
        "exits non-zero (not issued, modified after signing, or an unsigned copy)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE.pdf")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from None
        try:
            outcome = report_verify(content=content)
        except ServiceError as error:
            raise CommandError(error.message) from None
        write = self.stdout.write
        write(f"File      {path}")
        write(f"SHA-256   {outcome['sha256']}")
        report = outcome["report"]
        signature = outcome["signature"]
        if report is not None:
            write(f"Reference {report['reference']} ({report['lab']})")
            write(f"Model     {report['model']} {report['model_version']}")
            write(f"Revision  {report['revision']}")
            write(f"Report    version {report['version']}, {report['kind']}, {report['variant']}")
            write(f"Decision  {report['decision']}")
            write(f"Issued    {report['issued_at']:%Y-%m-%d %H:%M} UTC")
        if signature is not None:
            verdict = ", ".join(
                (
                    "valid" if signature["valid"] else "NOT VALID",
                    "unmodified since signing"
                    if signature["unmodified"]
                    else "CHANGED AFTER SIGNING",
                    "the portal's certificate"
                    if signature["by_portal_authority"]
                    else "NOT the portal's certificate",
                )
            )
            write(f"Signature {verdict}")
            write(f"Signer    {signature['signer_subject']}")
            write(f"          certificate SHA-256 {signature['signer_fingerprint']}")
        elif report is not None and report["signed"]:
            write("Signature NONE in this file (the report was issued signed)")
        if outcome["state"] != "issued":
            raise CommandError(outcome["message"])
        write(self.style.SUCCESS(outcome["message"]))
        embedded = outcome["embedded_assessment"]
        if embedded == "matches":
            write("Embedded  assessment.json matches the stored assessment")
        elif embedded is not None:
            raise CommandError(
                f"The embedded assessment.json {embedded} the stored assessment "
                "although the file's hash is one the portal issued."
            )
        if report["superseded"]:
            latest = report["latest"]
            self.stderr.write(
                self.style.WARNING(
                    f"SUPERSEDED: version {latest['version']} ({latest['kind']}, "
                    f"{latest['decision']}) was issued {latest['issued_at']:%Y-%m-%d %H:%M} UTC."
                )
            )
