"""The shapes every importer returns: facts with provenance, diagnostics, warnings, errors.

Pure Python: nothing here imports Django, so importers can be tested and benchmarked alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Warnings of one kind from one file are folded into one, which names this many of the
# others' places; one file keeps at most MAX_WARNINGS_PER_FILE warnings and a merged facts
# document at most MAX_WARNINGS_PER_FACTS, so no page grows with the rows of an upload.
FOLDED_LOCATIONS_SHOWN = 3
MAX_WARNINGS_PER_FILE = 50
MAX_WARNINGS_PER_FACTS = 200
NOT_KEPT = "warnings_not_kept"


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


def location_from(raw: Mapping[str, Any]) -> Location:
    """A Location from its `as_dict()` form (extra keys such as `also` are ignored)."""
    return Location(file=raw["file"], line=raw.get("line"), field=raw.get("field"))


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
    """Something accepted but worth a reviewer's attention (a malformed optional block...).

    `kind` groups warnings that say the same thing about different places ("a value that is
    not a number"): give one where a file can repeat a warning per row or entry. Without
    one, only warnings with the same message are the same kind, so distinct findings (two
    contradicted claims) stay apart. When several of a kind are folded into one, `repeats`
    counts the others and `also` names the first few of their places; the message then ends
    with "… and N more like this". A warning of kind NOT_KEPT stands for `repeats` warnings
    left out by the cap (`bounded_warnings`).
    """

    message: str
    location: Location
    kind: str | None = None
    repeats: int = 0
    also: tuple[Location, ...] = ()

    @property
    def text(self) -> str:
        """The message as people read it, with the folded repeats summarized."""
        if self.kind == NOT_KEPT:
            return (
                f"{self.repeats:,} more warning{'s' if self.repeats != 1 else ''} of other kinds "
                "were not kept (only the first kinds are); correct the problems above and "
                "upload the file again to see the rest"
            )
        if not self.repeats:
            return self.message
        places = "; ".join(str(place) for place in self.also)
        more = ", …" if self.repeats > len(self.also) else ""
        return f"{self.message} … and {self.repeats:,} more like this" + (
            f" ({places}{more})" if places else ""
        )

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"message": self.text, **self.location.as_dict()}
        if self.kind:
            shown["kind"] = self.kind
        if self.repeats:
            shown["repeats"] = self.repeats
            shown["also"] = [place.as_dict() for place in self.also]
        return shown

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IntakeWarning:
        """The inverse of `as_dict`."""
        repeats = int(raw.get("repeats") or 0)
        message = str(raw["message"])
        if raw.get("kind") == NOT_KEPT:
            message = ""  # its text is made from the count
        elif repeats:
            message = message.split(f" … and {repeats:,} more like this", 1)[0]
        return cls(
            message=message,
            location=location_from(raw),
            kind=raw.get("kind"),
            repeats=repeats,
            also=tuple(location_from(place) for place in raw.get("also") or ()),
        )

    def folded(self, other: IntakeWarning) -> IntakeWarning:
        """This warning with `other` (of the same kind) counted among its repeats."""
        places = (other.location, *other.also)
        room = FOLDED_LOCATIONS_SHOWN - len(self.also)
        return replace(
            self,
            repeats=self.repeats + 1 + other.repeats,
            also=(*self.also, *places[: max(room, 0)]),
        )


def _warning_key(warning: IntakeWarning) -> tuple[str, str]:
    return (warning.location.file, warning.kind or warning.message)


def bounded_warnings(warnings: Iterable[IntakeWarning], *, limit: int) -> list[IntakeWarning]:
    """Fold warnings of one kind from one file into one, and keep at most `limit`.

    Order is kept (by each kind's first warning). When more kinds than `limit` remain, the
    last entry (kind NOT_KEPT) says how many were left out, so the cap is visible, never
    silent; bounding an already bounded list keeps that count.
    """
    folded: dict[tuple[str, str], IntakeWarning] = {}
    dropped = 0
    dropped_from: Location | None = None
    for warning in warnings:
        key = _warning_key(warning)
        if warning.kind == NOT_KEPT:
            dropped += warning.repeats
            dropped_from = dropped_from or warning.location
        elif key in folded:
            folded[key] = folded[key].folded(warning)
        elif len(folded) < limit - 1:
            folded[key] = warning
        else:
            dropped += 1 + warning.repeats
            dropped_from = dropped_from or Location(file=warning.location.file)
    kept = list(folded.values())
    if dropped:
        kept.append(
            IntakeWarning("", dropped_from or Location(file="facts"), NOT_KEPT, repeats=dropped)
        )
    return kept


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
    # The model an evaluation log says it evaluated ("openai/gpt-4o-mini"), for messages
    # about conflicting runs. Not a fact: it never enters the facts document or its hash.
    model: str | None = None

    @property
    def source(self) -> str:
        return self.location.file

    def as_fact(self) -> dict[str, Any]:
        """The diagnostic as it appears in the facts document's `diagnostics` list."""
        fact: dict[str, Any] = {"metric": self.metric, "value": self.value, "source": self.source}
        for key in DIAGNOSTIC_FACT_KEYS:
            value = getattr(self, key)
            if value is not None:
                fact[key] = value
        return fact


DIAGNOSTIC_FACT_KEYS = ("ci_low", "ci_high", "n", "suite", "notes", "method", "supersedes")


@dataclass(frozen=True)
class NarrativeSection:
    """A titled piece of the lab's own prose (markdown), kept for the report.

    `confidential` is set when the lab marked the section confidential (in the card, or by
    title in the filing's `confidential_sections`); the public report omits it.
    """

    title: str
    markdown: str
    location: Location
    confidential: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "markdown": self.markdown,
            **self.location.as_dict(),
            "confidential": self.confidential,
        }


@dataclass
class Imported:
    """What one importer extracted from one input file.

    `fields` are filing facts (dotted schema paths). `metadata` holds card facts that are
    not filing facts (`license`, `language`, `tags`, `datasets`, `pipeline_tag`, ...) and
    `offered` holds facts an evaluation log suggests (`model.name` from the model it
    evaluated) that count only when no input states them; both map a key to
    `{"value": ..., "source": {"file", "line", "field"}}` and neither is scored.
    """

    source: str  # the file name as uploaded
    kind: str  # "filing", "hf_model_card", "markdown_model_card", "model_card_toolkit",
    # "cyclonedx", or a diagnostics kind (audits.intake.DIAGNOSTIC_KINDS)
    fields: dict[str, Any] = field(default_factory=dict)  # dotted filing path -> value
    provenance: dict[str, Location] = field(default_factory=dict)  # dotted path -> where
    diagnostics: list[Diagnostic] = field(default_factory=list)
    narrative: list[NarrativeSection] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[IntakeWarning] = field(default_factory=list)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    offered: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set_fact(self, path: str, value: Any, location: Location) -> None:
        self.fields[path] = value
        self.provenance[path] = location

    def set_metadata(self, key: str, value: Any, location: Location) -> None:
        """Keep a card fact that is not a filing fact (shown to the regulator, not scored)."""
        self.metadata[key] = {"value": value, "source": location.as_dict()}

    def offer(self, path: str, value: Any, location: Location) -> None:
        """Suggest a filing fact that counts only when no input states it (see `merge`)."""
        self.offered[path] = {"value": value, "source": location.as_dict()}

    def warn(self, message: str, location: Location, *, kind: str | None = None) -> None:
        """Add a warning, folded into an earlier one of the same kind and bounded in number.

        However many rows repeat a problem, the list stays at most MAX_WARNINGS_PER_FILE long.
        """
        warning = IntakeWarning(message=message, location=location, kind=kind)
        key = _warning_key(warning)
        # Repeats usually follow each other: look at the newest warning first.
        for index in range(len(self.warnings) - 1, -1, -1):
            if _warning_key(self.warnings[index]) == key:
                self.warnings[index] = self.warnings[index].folded(warning)
                return
        if len(self.warnings) < MAX_WARNINGS_PER_FILE:
            self.warnings.append(warning)
            return
        self.warnings[:] = bounded_warnings([*self.warnings, warning], limit=MAX_WARNINGS_PER_FILE)

    def strings(self) -> Iterator[tuple[str, Location]]:
        """Every text this import would store, with the place it came from (for NUL checks)."""
        for path, value in self.fields.items():
            where = self.provenance.get(path) or Location(self.source, field=path)
            yield from ((text, where) for text in _texts(value))
        for key, entry in (*self.metadata.items(), *self.offered.items()):
            where = location_from(entry["source"])
            yield from ((text, where) for text in _texts([key, entry["value"]]))
        for diagnostic in self.diagnostics:
            for value in (diagnostic.metric, diagnostic.suite, diagnostic.notes):
                if value is not None:
                    yield value, diagnostic.location
        for section in self.narrative:
            yield section.title, section.location
            yield section.markdown, section.location
        for item in self.evidence:
            where = self.provenance.get(f"evidence[{item.get('file')}]") or Location(self.source)
            yield from ((text, where) for text in _texts(item))


def refuse_nul(imported: Imported) -> None:
    """Refuse a NUL character in any text the import would store (JSON's \\u0000, YAML's
    "\\0"): PostgreSQL cannot store it, and no lab means it. Names the place it came from."""
    for text, location in imported.strings():
        if "\x00" in text:
            raise IntakeError(
                f"this text contains a NUL character ({text[:40]!r}), which the portal "
                "cannot store; remove it (it is often a \\u0000 escape left by an export tool)",
                **location.as_dict(),
            )


def _texts(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (keys included), without recursion."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, (list, tuple)):
            stack.extend(current)


def imported_to_dict(imported: Imported) -> dict[str, Any]:
    """A JSON-ready form of `imported`, kept with an upload so facts rebuild without re-parsing."""
    return {
        "source": imported.source,
        "kind": imported.kind,
        "fields": imported.fields,
        "provenance": {path: loc.as_dict() for path, loc in imported.provenance.items()},
        "diagnostics": [
            {
                **diagnostic.as_fact(),
                "location": diagnostic.location.as_dict(),
                **({"model": diagnostic.model} if diagnostic.model else {}),
            }
            for diagnostic in imported.diagnostics
        ],
        "narrative": [
            {
                "title": s.title,
                "markdown": s.markdown,
                "location": s.location.as_dict(),
                "confidential": s.confidential,
            }
            for s in imported.narrative
        ],
        "evidence": imported.evidence,
        "warnings": [warning.as_dict() for warning in imported.warnings],
        "metadata": imported.metadata,
        "offered": imported.offered,
    }


def imported_from_dict(raw: dict[str, Any]) -> Imported:
    """The inverse of `imported_to_dict` (also reads what earlier versions stored)."""
    return Imported(
        source=raw["source"],
        kind=raw["kind"],
        fields=dict(raw["fields"]),
        provenance={path: location_from(loc) for path, loc in raw["provenance"].items()},
        diagnostics=[
            Diagnostic(
                metric=d["metric"],
                value=d["value"],
                location=location_from(d["location"]),
                model=d.get("model"),
                **{key: d.get(key) for key in DIAGNOSTIC_FACT_KEYS},
            )
            for d in raw["diagnostics"]
        ],
        narrative=[
            NarrativeSection(
                title=s["title"],
                markdown=s["markdown"],
                location=location_from(s["location"]),
                confidential=bool(s.get("confidential")),
            )
            for s in raw["narrative"]
        ],
        evidence=list(raw["evidence"]),
        warnings=[IntakeWarning.from_dict(w) for w in raw["warnings"]],
        metadata=dict(raw.get("metadata") or {}),
        offered=dict(raw.get("offered") or {}),
    )
