"""The facts a rubric may read, built from the filing schema and the metric catalogue.

A rubric that names anything else is rejected, so a typo cannot silently turn into "always
missing". The vocabulary is read from `audits/schemas/filing-v1.json` (the published
filing schema) and `audits/intake/catalogue.py` (metric catalogue v1), so a new filing field
or catalogue metric reaches the rubric schema without a second list to keep in step.
Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audits.intake.catalogue import CATALOGUE
from audits.intake.filing import FACT_SECTIONS, filing_schema

ENUM = "enum"
NUMBER = "number"
BOOLEAN = "boolean"
LIST = "list"
TEXT = "text"


@dataclass(frozen=True)
class FactKind:
    """What values a fact of the filing can take (FILING.md, schema v1)."""

    kind: str
    allowed: tuple[str, ...] = ()


def fact_kind(path: str, property_schema: Mapping[str, Any]) -> FactKind:
    """The kind of one filing property, from its JSON Schema.

    Raises ValueError for a shape the rubric language has no operators for, so a new kind
    of filing field is a decision, not a silent "text".
    """
    types = property_schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    types.discard("null")  # a nullable field (model.base_model) is missing when null
    if types == {"string"}:
        allowed = property_schema.get("enum")
        return FactKind(ENUM, tuple(allowed)) if allowed else FactKind(TEXT)
    if types <= {"number", "integer"} and types:
        return FactKind(NUMBER)
    if types == {"boolean"}:
        return FactKind(BOOLEAN)
    if types == {"array"} and property_schema.get("items", {}).get("enum"):
        return FactKind(LIST, tuple(property_schema["items"]["enum"]))
    raise ValueError(f"the filing schema's {path} has a shape rubrics cannot read: {types}")


def filing_facts(schema: Mapping[str, Any]) -> dict[str, FactKind]:
    """Every scalar (or list-of-enumeration) fact of a filing schema, in schema order."""
    properties = schema["properties"]
    return {
        f"{section}.{name}": fact_kind(f"{section}.{name}", property_schema)
        for section in FACT_SECTIONS
        for name, property_schema in properties[section]["properties"].items()
    }


FILING_FACTS: dict[str, FactKind] = filing_facts(filing_schema())

# Metric catalogue v1 (FILING.md): the diagnostics that feed a rubric, in catalogue order.
CATALOGUE_METRICS: tuple[str, ...] = tuple(CATALOGUE)

KNOWN_FACTS: dict[str, FactKind] = {
    **FILING_FACTS,
    **{f"diagnostics[{metric}]": FactKind(NUMBER) for metric in CATALOGUE_METRICS},
}


def diagnostic_path(metric: str) -> str:
    """The fact path of a catalogue diagnostic: `diagnostics[<metric>]`."""
    return f"diagnostics[{metric}]"


def diagnostic_metric(path: str) -> str | None:
    """The metric id of a `diagnostics[<metric>]` fact path, or None for a filing path."""
    if path.startswith("diagnostics[") and path.endswith("]"):
        return path[len("diagnostics[") : -1]
    return None


def map_key(value: Any) -> str:
    """The key a `map` uses for a fact value: booleans are written "true"/"false"."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def allowed_map_keys(kind: FactKind) -> tuple[str, ...]:
    if kind.kind == BOOLEAN:
        return ("true", "false")
    return kind.allowed


def expected_value(path: str) -> str:
    """What a fact's value must be, in words: "one of narrow, moderate, ...", "a number"."""
    kind = KNOWN_FACTS[path]
    if kind.kind == ENUM:
        return "one of " + ", ".join(kind.allowed)
    if kind.kind == LIST:
        return "a list of " + ", ".join(kind.allowed)
    if kind.kind == NUMBER:
        return "a number"
    if kind.kind == BOOLEAN:
        return "true or false"
    return "text"
