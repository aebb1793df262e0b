"""The shapes every importer returns: facts with provenance, diagnostics, warnings, errors.

Pure Python: nothing here imports Django, so importers can be tested and benchmarked alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where a fact, a warning or an error comes from: a file, and a line or field in it."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return describe_location(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field}


def describe_location(location: Location | Mapping[str, Any] | str | None) -> str:
    """`{"file": "filing.yaml", "line": 12, "field": "model.scope"}` (or a Location) as
    `filing.yaml, line 12, field model.scope`: how every message and page names a place.
    Text that already describes one is returned as it is."""
    if location is None:
        return ""
    if isinstance(location, str):
        return location
    if isinstance(location, Location):
        location = location.as_dict()
    parts = [str(location.get("file") or "")]
    if location.get("line") is not None:
        parts.append(f"line {location['line']}")
    if location.get("field"):
        parts.append(f"field {location['field']}")
    return ", ".join(part for part in parts if part)


class IntakeError(Exception):
    """An input that cannot be accepted. The message says what is wrong and what to do."""

    def __init__(
        self, message: str, *, file: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.location = Location(file=file, line=line, field=field)
        super().__init__(f"{self.location}: {message}")

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, **self.location.as_dict()}


class IntakeErrors(IntakeError):
    """Several errors found in one input (a schema validation reports them all at once)."""

    def __init__(self, errors: list[IntakeError]) -> None:
        if not errors:
            raise ValueError("IntakeErrors needs at least one error")
        self.errors = errors
        first = errors[0]
        super().__init__(
            first.message,
            file=first.location.file,
            line=first.location.line,
            field=first.location.field,
        )
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        self.args = (f"{first.location}: {first.message}{more}",)


@dataclass(frozen=True)
class IntakeWarning:
    """Something accepted but worth a reviewer's attention (a malformed optional block...)."""

    message: str
    location: Location

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, **self.location.as_dict()}


@dataclass
class Diagnostic:
    """One measured metric. `metric` is a catalogue id (FILING.md) or any other id."""

    metric: str
    value: float
    location: Location
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    suite: str | None = None
    notes: str | None = None
    # How value/interval were computed when aggregated from per-sample rows
    # ("mean; wilson 95%", "mean; t 95%"), or None when reported as is.
    method: str | None = None
    # The name of the source file this diagnostic supersedes, if the lab marked one.
    supersedes: str | None = None

    @property
    def source(self) -> str:
        return self.location.file

    def as_fact(self) -> dict[str, Any]:
        """The diagnostic as it appears in the facts document's `diagnostics` list."""
        fact: dict[str, Any] = {"metric": self.metric, "value": self.value, "source": self.source}
        for key in ("ci_low", "ci_high", "n", "suite", "notes", "method", "supersedes"):
            value = getattr(self, key)
            if value is not None:
                fact[key] = value
        return fact


@dataclass(frozen=True)
class NarrativeSection:
    """A titled piece of the lab's own prose (markdown), kept for the report."""

    title: str
    markdown: str
    location: Location


@dataclass
class Imported:
    """What one importer extracted from one input file."""

    source: str  # the file name as uploaded
    kind: str  # "filing", "hf_model_card", "markdown_model_card", "model_card_toolkit",
    # "cyclonedx", "diagnostics_table", "lm_eval", "inspect"
    fields: dict[str, Any] = field(default_factory=dict)  # dotted filing path -> value
    provenance: dict[str, Location] = field(default_factory=dict)  # dotted path -> where
    diagnostics: list[Diagnostic] = field(default_factory=list)
    narrative: list[NarrativeSection] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[IntakeWarning] = field(default_factory=list)

    def set_fact(self, path: str, value: Any, location: Location) -> None:
        self.fields[path] = value
        self.provenance[path] = location

    def warn(self, message: str, location: Location) -> None:
        self.warnings.append(IntakeWarning(message=message, location=location))


def _location_from(raw: dict[str, Any]) -> Location:
    return Location(file=raw["file"], line=raw.get("line"), field=raw.get("field"))


def imported_to_dict(imported: Imported) -> dict[str, Any]:
    """A JSON-ready form of `imported`, kept with an upload so facts rebuild without re-parsing."""
    return {
        "source": imported.source,
        "kind": imported.kind,
        "fields": imported.fields,
        "provenance": {path: loc.as_dict() for path, loc in imported.provenance.items()},
        "diagnostics": [
            {**diagnostic.as_fact(), "location": diagnostic.location.as_dict()}
            for diagnostic in imported.diagnostics
        ],
        "narrative": [
            {"title": s.title, "markdown": s.markdown, "location": s.location.as_dict()}
            for s in imported.narrative
        ],
        "evidence": imported.evidence,
        "warnings": [warning.as_dict() for warning in imported.warnings],
    }


def imported_from_dict(raw: dict[str, Any]) -> Imported:
    """The inverse of `imported_to_dict`."""
    diagnostic_keys = ("ci_low", "ci_high", "n", "suite", "notes", "method", "supersedes")
    return Imported(
        source=raw["source"],
        kind=raw["kind"],
        fields=dict(raw["fields"]),
        provenance={path: _location_from(loc) for path, loc in raw["provenance"].items()},
        diagnostics=[
            Diagnostic(
                metric=d["metric"],
                value=d["value"],
                location=_location_from(d["location"]),
                **{key: d.get(key) for key in diagnostic_keys},
            )
            for d in raw["diagnostics"]
        ],
        narrative=[
            NarrativeSection(
                title=s["title"], markdown=s["markdown"], location=_location_from(s["location"])
            )
            for s in raw["narrative"]
        ],
        evidence=list(raw["evidence"]),
        warnings=[
            IntakeWarning(message=w["message"], location=_location_from(w)) for w in raw["warnings"]
        ],
    )
