import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.errors import ServiceError
from audits.models import RescoreOutcome, Rubric
from audits.services.assessment import Rescore, assessments_rescore
from audits.services.rubrics import rubric_by_reference


class Command(BaseCommand):
    help = (
        "Re-assess every filed submission under another stored rubric version and print, per "
        "submission, the tier change and the criteria whose level changed (the diff is kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rubric", required=True, metavar="URN@VERSION")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rubric = rubric_by_reference(options["rubric"])
        except ServiceError as error:
            raise CommandError(error.message) from None
        outcomes = assessments_rescore(rubric=rubric)
        rescores = [r for r in outcomes if r.status == RescoreOutcome.Status.RESCORED]
        failures = [r for r in outcomes if r.status == RescoreOutcome.Status.FAILED]
        for failure in failures:
            self.stderr.write(f"{failure.submission.reference}: not re-scored: {failure.error}")
        if options["format"] == "json":
            diffs = [{"reference": r.submission.reference, **r.diff} for r in rescores]
            self.stdout.write(json.dumps(diffs, indent=2))
        else:
            self._print(rubric, rescores)
        if failures:
            raise CommandError(f"{len(failures)} filings could not be re-scored (listed above).")

    def _print(self, rubric: Rubric, rescores: list[Rescore]) -> None:
        if not rescores:
            self.stdout.write(f"Nothing to re-score under {rubric.urn}@{rubric.version}.")
        for rescore in rescores:
            diff = rescore.diff
            tier = diff["tier"]
            score = diff["overall_score"]
            arrow = (
                f"{tier['old']} → {tier['new']}"
                if tier["changed"]
                else f"{tier['new']} (unchanged)"
            )
            reference = rescore.submission.reference
            self.stdout.write(f"{reference}  tier {arrow}  score {score['old']} → {score['new']}")
            for criterion in diff["criteria"]:
                change = f"{criterion['old_level']} → {criterion['new_level']}"
                self.stdout.write(f"    {criterion['id']} {criterion['name']}: {change}")
