import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.intake.catalogue import unscored_summary
from audits.intake.local_files import facts_from_paths
from audits.intake.types import IntakeError, IntakeErrors, describe_location


def intake_error_text(error: IntakeError) -> str:
    """Every error of an intake failure, one per line, each with its file and place."""
    errors = error.errors if isinstance(error, IntakeErrors) else [error]
    return "\n".join(f"{e.location}: {e.message}" for e in errors)


class Command(BaseCommand):
    help = "Print the merged facts of filing, model card and diagnostics files, with provenance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            facts = facts_from_paths(options["files"])
        except IntakeError as error:
            raise CommandError(intake_error_text(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(facts.as_dict(), indent=2, sort_keys=True))
            return
        self.stdout.write(f"facts sha256 {facts.sha256}")
        for path, where in sorted(facts.provenance.items()):
            self.stdout.write(
                f"  {path} = {_value_at(facts.document, path)!r}  ← {describe_location(where)}"
            )
        self.stdout.write(
            f"missing ({len(facts.missing)}): {', '.join(facts.missing) or 'nothing'}"
        )
        if facts.metadata:
            self.stdout.write("metadata (shown to the regulator, not scored):")
            for key, entry in sorted(facts.metadata.items()):
                source = describe_location(entry["source"])
                self.stdout.write(f"  {key} = {entry['value']!r}  ← {source}")
        unscored = unscored_summary(facts.unscored())
        if unscored:
            self.stdout.write(unscored)
        for warning in facts.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning.location}: {warning.text}"))


def _value_at(document: dict[str, Any], path: str) -> Any:
    if path.startswith("diagnostics["):
        metric = path[len("diagnostics[") : -1]
        return next(
            (d["value"] for d in document.get("diagnostics", []) if d["metric"] == metric), None
        )
    if path.startswith("evidence["):
        return path[len("evidence[") : -1]
    section, _, name = path.partition(".")
    return document.get(section, {}).get(name)
