from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.errors import ServiceError
from audits.models import Rubric, RubricPublication
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
                self._publish(rubric_by_reference(options["publish"]))
        except (RubricError, ServiceError) as error:
            raise CommandError(str(error)) from None

    def _publish(self, rubric: Rubric) -> None:
        published = rubric_publish(rubric=rubric, acting_user=None)
        if not published.started or published.publication is None:
            self.stdout.write(f"{rubric} is already in force; nothing re-scored.")
            return
        publication = RubricPublication.objects.get(pk=published.publication.pk)
        self.stdout.write(f"{rubric} is now in force (publication {publication.pk}).")
        if publication.state == RubricPublication.State.DONE:
            # Without a broker the re-scoring ran here, right after the commit.
            self.stdout.write(
                f"Re-scored {publication.done} of {publication.total} filings "
                f"({publication.skipped} already assessed under it, {publication.failed} failed)."
            )
            for outcome in publication.outcomes.filter(status="failed").select_related(
                "submission"
            ):
                self.stderr.write(f"  {outcome.submission.reference}: {outcome.error}")
        else:
            self.stdout.write(
                "The re-scoring runs on the workers (queue 'rescoring'); follow it on the "
                f"portal's Rubrics page (publication {publication.pk})."
            )
