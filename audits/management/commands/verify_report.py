"""`manage.py verify_report FILE.pdf`: which report a PDF is, or that it was never issued."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.errors import ServiceError
from audits.services.reports import report_verify


class Command(BaseCommand):
    help = (
        "Check a transparency audit report PDF against the reports this portal issued: "
        "prints the submission, revision and report version, or exits non-zero."
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
        if not outcome["issued"]:
            raise CommandError(outcome["message"])
        report = outcome["report"]
        write(self.style.SUCCESS(outcome["message"]))
        write(f"Reference {report['reference']} ({report['lab']})")
        write(f"Model     {report['model']} {report['model_version']}")
        write(f"Revision  {report['revision']}")
        write(f"Report    version {report['version']}, {report['kind']}")
        write(f"Issued    {report['issued_at']:%Y-%m-%d %H:%M} UTC")
        embedded = outcome["embedded_assessment"]
        if embedded == "matches":
            write("Embedded  assessment.json matches the stored assessment")
        elif embedded is not None:
            raise CommandError(
                f"The embedded assessment.json {embedded} the stored assessment "
                "although the file's hash is one the portal issued."
            )
