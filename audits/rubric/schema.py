"""The structure of a rubric document, validated with JSON Schema, naming every error's path.

A rubric is data a regulator edits, so a mistake must be caught when the file loads, not
when a filing happens to exercise it. This module checks the structure with JSON Schema;
what JSON Schema cannot express well (the condition language, references between sections,
bands covering every number once, map keys against the filing's enumerations, weights
summing to one) is checked afterwards by `checks.py`, whose `rubric_errors` runs both.
Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema

from audits.rubric.errors import RubricError

# How a rubric reads a fact that is not supplied (its top-level `missing_facts`). "ignored"
# is 1.0.0's reading and the default: a condition reading it is false and a signal reading
# it gives nothing (a required one flags missing evidence). "precautionary" (1.1.0): it
# decides toward higher risk wherever it would decide something (see conditions.py).
IGNORED = "ignored"
PRECAUTIONARY = "precautionary"
MISSING_FACT_READINGS = (IGNORED, PRECAUTIONARY)

# Every sentence part an explanation is built from, and the fields each may use; a rubric
# file words each one.
TEMPLATE_PLACEHOLDERS: dict[str, set[str]] = {
    "assessed": {"level", "reasons"},
    "missing_evidence": {"level", "reasons", "missing_level", "evidence"},
    "not_applicable": {"applies_text", "values"},
    "signal": {"path", "value", "level"},
    "adjustment": {"path", "value", "delta"},
    "conditional_adjustment": {"text", "delta"},
    "fact_value": {"path", "value"},
    "fact_missing": {"path"},
    "no_signal": set(),
    "to_resolve": {"evidence"},
    "resolve_diagnostics": {"metrics"},
    "resolve_facts": {"paths"},
    "alternative_separator": set(),
    "group_separator": set(),
    # Precautionary reading only. {missing} is "X is not supplied" for each fact that was
    # missing, joined by group_separator.
    "signal_missing": {"path", "level"},
    "signal_assumed": {"path", "value", "level", "missing"},
    "adjustment_missing": {"path", "delta"},
    "conditional_assumed": {"text", "delta", "missing"},
    "conditional_unproven": {"text", "delta", "missing"},
    "undecided": {"applies_text", "missing"},
    "requirement_assumed": {"evidence", "missing"},
    "evidence_undecided": {"level", "reasons", "evidence"},
}
PRECAUTIONARY_TEMPLATES = (
    "signal_missing",
    "signal_assumed",
    "adjustment_missing",
    "conditional_assumed",
    "conditional_unproven",
    "undecided",
    "requirement_assumed",
    "evidence_undecided",
)
# Required in every rubric.
EXPLANATION_TEMPLATES = tuple(
    key for key in TEMPLATE_PLACEHOLDERS if key not in PRECAUTIONARY_TEMPLATES
)

_ID = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}
_CRITERION_ID = {"type": "string", "pattern": "^[A-Z][0-9]+$"}
_SNAKE = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_TEXT = {"type": "string", "minLength": 1}
_NUMBER = {"type": "number"}
_LEVEL = {"type": "integer", "minimum": 0}
# Conditions are checked by hand (checks.check_condition): JSON Schema's oneOf errors name
# no useful path.
_CONDITION = {"type": "object"}

RUBRIC_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "urn",
        "version",
        "title",
        "references",
        "categories",
        "tiers",
        "coverage",
        "explanation_templates",
        "criteria",
        "gates",
    ],
    "properties": {
        "urn": {"type": "string", "pattern": "^urn:[a-z0-9][a-z0-9-]*:[^\\s]+$"},
        "version": {
            "type": "string",
            "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$",
        },
        "title": _TEXT,
        "description": _TEXT,
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "citation"],
                "properties": {"id": _ID, "citation": _TEXT, "url": _TEXT},
            },
        },
        "categories": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title", "weight"],
                "properties": {
                    "id": _SNAKE,
                    "title": _TEXT,
                    "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                },
            },
        },
        "tiers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "min"],
                "properties": {
                    "id": _SNAKE,
                    "min": {"type": "number", "minimum": 0, "maximum": 100},
                },
            },
        },
        "missing_facts": {"enum": list(MISSING_FACT_READINGS)},
        "semantics": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "text"],
                "properties": {"title": _TEXT, "text": _TEXT},
            },
        },
        "coverage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["insufficient_below"],
            "properties": {"insufficient_below": {"type": "number", "minimum": 0, "maximum": 1}},
        },
        "conditions": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": _CONDITION,
        },
        "explanation_templates": {
            "type": "object",
            "additionalProperties": False,
            "required": list(EXPLANATION_TEMPLATES),
            "properties": {key: {"type": "string"} for key in TEMPLATE_PLACEHOLDERS},
        },
        "criteria": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "id",
                    "name",
                    "category",
                    "weight",
                    "max_level",
                    "missing_level",
                    "reference",
                    "rationale",
                    "signals",
                ],
                "dependentRequired": {"applies_when": ["applies_text"]},
                "properties": {
                    "id": _CRITERION_ID,
                    "name": _SNAKE,
                    "category": _SNAKE,
                    "weight": {"type": "number", "exclusiveMinimum": 0},
                    "max_level": {"type": "integer", "minimum": 1},
                    "missing_level": _LEVEL,
                    "applies_when": _CONDITION,
                    "applies_text": _TEXT,
                    "reference": _TEXT,
                    "cites": {"type": "array", "items": _ID},
                    "rationale": _TEXT,
                    "signals": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["fact"],
                            "properties": {
                                "fact": _TEXT,
                                "required": {"type": "boolean"},
                                "when": _CONDITION,
                                "map": {
                                    "type": "object",
                                    "minProperties": 1,
                                    "additionalProperties": _LEVEL,
                                },
                                "bands": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["level"],
                                        "properties": {
                                            "min": _NUMBER,
                                            "above": _NUMBER,
                                            "max": _NUMBER,
                                            "at_most": _NUMBER,
                                            "level": _LEVEL,
                                        },
                                    },
                                },
                            },
                            "oneOf": [{"required": ["map"]}, {"required": ["bands"]}],
                        },
                    },
                    "adjustments": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "fact": _TEXT,
                                "required": {"type": "boolean"},
                                "map": {
                                    "type": "object",
                                    "minProperties": 1,
                                    "additionalProperties": {"type": "integer"},
                                },
                                "when": _CONDITION,
                                "delta": {"type": "integer"},
                                "text": _TEXT,
                            },
                            "oneOf": [
                                {"required": ["fact", "map"], "not": {"required": ["when"]}},
                                {
                                    "required": ["when", "delta", "text"],
                                    "not": {
                                        "anyOf": [
                                            {"required": ["fact"]},
                                            {"required": ["map"]},
                                            {"required": ["required"]},
                                        ]
                                    },
                                },
                            ],
                        },
                    },
                    "requires_any": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["facts"],
                            "properties": {
                                "facts": {"type": "array", "minItems": 1, "items": _TEXT},
                                "when": _CONDITION,
                            },
                        },
                    },
                },
            },
        },
        "gates": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "min_tier", "when"],
                "properties": {
                    "id": {"type": "string", "pattern": "^G[0-9]+$"},
                    "name": _SNAKE,
                    "min_tier": _SNAKE,
                    "rationale": _TEXT,
                    "when": _CONDITION,
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(RUBRIC_JSON_SCHEMA)


def format_path(parts: Iterable[str | int]) -> str:
    """`["criteria", 3, "signals"]` -> `criteria[3].signals`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def structure_errors(document: Any) -> list[RubricError]:
    errors: list[tuple[list[str | int], RubricError]] = []
    for error in _VALIDATOR.iter_errors(document):
        parts: list[str | int] = list(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # Name the unknown key itself, which is what the author has to fix.
            allowed = error.schema.get("properties", {})
            unknown = sorted(str(key) for key in error.instance if key not in allowed)
            if unknown:
                parts.append(unknown[0])
                message = f"unknown key {unknown[0]!r}"
                if allowed:
                    message += f"; allowed keys: {', '.join(sorted(allowed))}"
        elif error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else ""
            if missing:
                parts.append(missing)
                message = f"required key {missing!r} is missing"
        elif error.validator == "oneOf" and "signals" in error.schema_path:
            message = "a signal has either 'map' or 'bands'"
        elif error.validator == "oneOf" and "adjustments" in error.schema_path:
            message = (
                "an adjustment is either 'fact' + 'map' (+ 'required') or 'when' + 'delta' + 'text'"
            )
        errors.append((parts, RubricError(message, path=format_path(parts))))
    # Document order: list indexes compare as numbers, so criteria[2] comes before [10].
    errors.sort(key=lambda pair: [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in pair[0]])
    return [error for _, error in errors]
