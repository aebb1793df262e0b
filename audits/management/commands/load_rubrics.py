from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.errors import ServiceError
from audits.rubric import RubricError
from audits.services.rubrics import rubric_by_reference, rubric_publish, rubrics_load


class Command(BaseCommand):
    help = "Store the rubric versions in audits/rubrics/ (or --directory) not stored yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directory", type=Path, help="read rubric files from this folder")
        parser.add_argument(
            "--publish", metavar="URN@VERSION", help="then put this version in force"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            for load in rubrics_load(directory=options["directory"]):
                row = load.rubric
                state = "stored" if load.created else "already stored"
                in_force = ", in force" if row.in_force else ""
                self.stdout.write(
                    f"{row.urn}@{row.version} sha256 {row.sha256} ({state}{in_force})"
                )
            if options["publish"]:
                row = rubric_publish(
                    rubric=rubric_by_reference(options["publish"]), acting_user=None
                )
                self.stdout.write(f"{row.urn}@{row.version} is now in force")
        except (RubricError, ServiceError) as error:
            raise CommandError(str(error)) from None
