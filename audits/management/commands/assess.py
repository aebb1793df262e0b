import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits import rubric as engine
from audits.intake.catalogue import unscored_summary
from audits.intake.local_files import facts_from_paths
from audits.intake.types import IntakeError
from audits.management.commands.facts import intake_error_text


class Command(BaseCommand):
    help = (
        "Assess filing, model card and diagnostics files with a rubric from audits/rubrics/ "
        "and print the result. Writes nothing to the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--rubric",
            default="urn:govportal:rubric:mesa-optimization",
            metavar="URN@VERSION",
            help="rubric to apply (default: the newest version of the mesa-optimization rubric)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--pdf", type=Path, metavar="OUT.pdf", help="also render the report")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            facts = facts_from_paths(options["files"])
            rubric = engine.find_rubric(engine.available_rubrics(), options["rubric"])
        except IntakeError as error:
            raise CommandError(intake_error_text(error)) from None
        except engine.RubricError as error:
            raise CommandError(str(error)) from None
        result = engine.assess(rubric, facts.document, facts.provenance).to_dict()
        unscored = unscored_summary(facts.unscored())
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
            if unscored:  # on stderr: standard output stays the documented JSON
                print(unscored, file=sys.stderr)
        else:
            self._summary(result, facts.missing, rubric.content["coverage"]["insufficient_below"])
            if unscored:
                self.stdout.write(unscored)
        if options["pdf"]:
            self._pdf(options["pdf"], facts, result)

    def _pdf(self, out: Path, facts: Any, result: dict[str, Any]) -> None:
        from audits.errors import ServiceError
        from audits.services.reports import report_adhoc_pdf

        try:
            content = report_adhoc_pdf(
                facts_document=facts.document,
                result=result,
                narrative=facts.as_dict()["narrative"],
                provenance=facts.provenance,
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        out.write_bytes(content)
        print(f"report written to {out} ({len(content):,} bytes)", file=sys.stderr)

    def _summary(self, result: dict[str, Any], missing: list[str], threshold: float) -> None:
        write = self.stdout.write
        tier, score, coverage = result["tier"].upper(), result["overall_score"], result["coverage"]
        if result["insufficient_evidence"]:
            write(
                self.style.WARNING(
                    f"Insufficient evidence — provisional tier {tier} "
                    f"(coverage {coverage:.3f}, below {threshold:g})"
                )
            )
        rubric = result["rubric"]
        reading = (
            ", missing facts read toward higher risk"
            if result.get("missing_facts_reading") == "precautionary"
            else ""
        )
        write(
            f"Rubric   {rubric['urn']}@{rubric['version']} (sha256 {rubric['sha256'][:12]}…"
            f"{reading})"
        )
        write(f"Facts    sha256 {result['facts_sha256']}")
        provisional = " (provisional)" if result["insufficient_evidence"] else ""
        write(f"Tier     {tier}{provisional}   score {score:.2f} / 100   coverage {coverage:.3f}")
        for gate in result["gates"]:
            because = ", ".join(gate.get("precautionary_facts") or [])
            note = f"  (holds because not supplied: {because})" if because else ""
            write(f"Gate     {gate['id']} {gate['name']} → at least {gate['min_tier']}{note}")
        write("")
        for category in result["categories"]:
            weight, score = category["weight"], category["score"]
            write(f"{category['id']:<18} weight {weight:.2f}  score {score:6.2f}")
        write("")
        for criterion in result["criteria"]:
            level = (
                f"{criterion['level']}/{criterion['max_level']}"
                if criterion["applicable"]
                else "n/a"
            )
            flag = "  MISSING EVIDENCE" if criterion["missing_evidence"] else ""
            if criterion.get("applicability") == "undecided":
                flag += "  APPLICABILITY UNDECIDED"
            name, weight = criterion["name"], criterion["weight"]
            write(f"{criterion['id']:<3} {name:<26} {level:>4}  w{weight}{flag}")
            write(f"      {criterion['explanation']}")
        gaps = result["evidence_gaps"]
        if gaps["count"]:
            write("")
            write(
                f"Evidence gaps: {gaps['count']} criteria lack evidence, "
                f"{len(gaps['missing_facts'])} facts to supply"
            )
            for gap in gaps["criteria"]:
                write(f"  {gap['id']:<3} {gap['name']:<26} {gap['to_resolve']}")
        if missing:
            write("")
            write(f"Not supplied ({len(missing)}): {', '.join(missing)}")
