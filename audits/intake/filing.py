"""The native filing (FILING.md): a YAML or JSON document validated strictly by schema v1.

The schema lives in `audits/schemas/filing-v1.json` and is published as is. What JSON Schema
cannot say (finite numbers, catalogue unit ranges, interval order) is checked here, and
every error names the exact path (`training.rl_horizon_steps`) and, for YAML, the line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from audits.intake.catalogue import CATALOGUE, check_metric_value
from audits.intake.types import (
    Diagnostic,
    Imported,
    IntakeError,
    IntakeErrors,
    Location,
)
from audits.intake.yaml_safe import decode_utf8, load_yaml

FILING_SCHEMA_ID = "govportal/filing/1"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "filing-v1.json"
# The sections whose leaves are scalar (or list-of-enum) facts, in schema order.
FACT_SECTIONS = ("model", "training", "deployment", "transparency")
REQUIRED_MODEL_FIELDS = ("model.name", "model.version", "model.developer")
# Titles of narrative sections the lab marks confidential (not a fact: never scored).
CONFIDENTIAL_SECTIONS_KEY = "confidential_sections"

_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys",
    "null": "null",
}


@cache
def filing_schema() -> dict[str, Any]:
    """The filing schema v1 as published (JSON Schema draft 2020-12)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        filing_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_leaf_paths() -> list[str]:
    """Every fact path of the schema (`model.name`, ..., `transparency.reasoning_visibility`)
    in schema order. Diagnostics and evidence are lists, not leaves, and are not included."""
    properties = filing_schema()["properties"]
    return [
        f"{section}.{name}"
        for section in FACT_SECTIONS
        for name in properties[section]["properties"]
    ]


def format_path(parts: Iterable[str | int], prefix: str = "") -> str:
    """`("diagnostics", 2, "value")` -> `diagnostics[2].value` (with an optional prefix)."""
    path = prefix.rstrip(".")
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _line_for(path: str, lines: dict[str, int] | None) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    if not lines:
        return None
    candidate = path
    while candidate:
        if candidate in lines:
            return lines[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _schema_error_messages(error: ValidationError, prefix: str) -> Iterator[tuple[str, str]]:
    """Turn one jsonschema error into (path, message) pairs a lab can act on."""
    path = format_path(error.absolute_path, prefix)
    shown = path or "the document"
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        instance = error.instance if isinstance(error.instance, dict) else {}
        for key in instance:
            if key not in allowed:
                key_path = format_path([*error.absolute_path, str(key)], prefix)
                where = f"under {path}" if path else "at the top level"
                yield (
                    key_path,
                    f"unknown key {key_path}; the keys allowed {where} are: "
                    f"{', '.join(allowed)}. Check the spelling against FILING.md",
                )
    elif validator == "enum":
        yield (
            path,
            f"{shown}: {_describe(error.instance)} is not an allowed value; allowed values: "
            f"{', '.join(str(v) for v in error.validator_value)}",
        )
    elif validator == "const":
        yield (path, f"{shown} must be {error.validator_value!r}, got {_describe(error.instance)}")
    elif validator == "type":
        expected = error.validator_value
        wanted = (
            " or ".join(str(_TYPE_WORDS.get(t, t)) for t in expected)
            if isinstance(expected, list)
            else _TYPE_WORDS.get(expected, expected)
        )
        hint = ""
        if expected == "string" and isinstance(error.instance, (int, float)):
            hint = ' (quote it: "2.1")'
        elif expected == "boolean" and isinstance(error.instance, str):
            hint = " (write true or false)"
        yield (path, f"{shown} must be {wanted}, got {_describe(error.instance)}{hint}")
    elif validator == "minimum":
        yield (
            path,
            f"{shown} must be >= {error.validator_value} (no negative counts or amounts), "
            f"got {error.instance!r}",
        )
    elif validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        key_path = format_path([*error.absolute_path, missing], prefix)
        yield (key_path, f"required key {key_path} is missing; add it")
    elif validator == "minLength":
        yield (path, f"{shown} must not be empty")
    elif validator == "uniqueItems":
        yield (path, f"{shown} lists the same value more than once; give each value once")
    elif validator in ("format", "pattern") and path.endswith("release_date"):
        yield (path, f"{shown} must be a date written YYYY-MM-DD, got {_describe(error.instance)}")
    elif validator == "pattern":
        yield (path, f"{shown} must be one word without spaces, got {_describe(error.instance)}")
    else:
        yield (path, f"{shown}: {error.message}")


def _walk_numbers(value: Any, parts: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, Any]]:
    """Yield (path parts, number) for every number in `value`, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(parts, value)]
    while stack:
        here, current = stack.pop()
        if isinstance(current, dict):
            stack.extend(((*here, str(k)), v) for k, v in current.items())
        elif isinstance(current, list):
            stack.extend(((*here, i), v) for i, v in enumerate(current))
        elif isinstance(current, float):
            yield here, current


def _diagnostic_range_errors(document: dict[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    diagnostics = document.get("diagnostics")
    if not isinstance(diagnostics, list):
        return
    for index, entry in enumerate(diagnostics):
        if not isinstance(entry, dict) or not isinstance(entry.get("metric"), str):
            continue
        metric = entry["metric"]
        for key in ("value", "ci_low", "ci_high"):
            number = entry.get(key)
            if number is None or isinstance(number, bool) or not isinstance(number, (int, float)):
                continue
            problem = check_metric_value(metric, number)
            if problem and (key == "value" or metric in CATALOGUE):
                path = format_path(["diagnostics", index, key], prefix)
                yield path, f"{path}: {problem.replace('value ', f'{key} ', 1)}"
        low, high = entry.get("ci_low"), entry.get("ci_high")
        if (
            isinstance(low, (int, float))
            and isinstance(high, (int, float))
            and not isinstance(low, bool)
            and not isinstance(high, bool)
            and low > high
        ):
            path = format_path(["diagnostics", index, "ci_low"], prefix)
            yield path, f"{path} ({low!r}) is above ci_high ({high!r}); swap them"


def validate_filing(
    document: Any,
    source: str,
    *,
    lines: dict[str, int] | None = None,
    prefix: str = "",
    partial: bool = False,
) -> None:
    """Validate `document` against filing schema v1 and the catalogue; raise IntakeErrors.

    Every error names its path (prefixed with `prefix`, e.g. `govportal.`) and, when `lines`
    maps paths to lines, the line. `partial=True` accepts a draft: the required keys
    (`filing_schema`, `model`, `model.name/version/developer`) may be absent (they are then
    reported as missing, not as errors); everything present is checked as strictly.
    """
    found: list[tuple[str, str]] = []
    if not isinstance(document, dict):
        raise IntakeError(
            f"a filing must be a mapping of keys (filing_schema, model, ...), "
            f"got {_describe(document)}",
            file=source,
            line=1 if lines is not None else None,
            field=prefix.rstrip(".") or None,
        )
    non_finite: set[str] = set()
    for parts, number in _walk_numbers(document):
        if not math.isfinite(number):
            path = format_path(parts, prefix)
            non_finite.add(path)
            found.append(
                (path, f"{path} must be a finite number, got {number!r}; give a real value")
            )
    for error in _validator().iter_errors(document):
        if partial and error.validator == "required" and len(error.absolute_path) <= 1:
            continue
        found.extend(_schema_error_messages(error, prefix))
    found.extend(_diagnostic_range_errors(document, prefix))
    # One clear message per non-finite number, not three variations of it.
    found = [
        (path, message)
        for path, message in found
        if path not in non_finite or "give a real value" in message
    ]
    if not found:
        return
    unique = sorted(set(found), key=lambda item: (_line_for(item[0], lines) or 0, item[0]))
    raise IntakeErrors(
        [
            IntakeError(message, file=source, line=_line_for(path, lines), field=path or None)
            for path, message in unique
        ]
    )


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ValueError(f"duplicate key {key!r}; give each key once")
        mapping[key] = value
    return mapping


def load_json(content: bytes | str, *, source: str) -> Any:
    """Load JSON strictly: UTF-8, no duplicate keys, bounded depth; errors name file and line.

    `NaN`/`Infinity` literals load as non-finite floats so that the validation that follows
    can refuse them with their field path (`diagnostics[0].value`), which a parse error here
    could not name.
    """
    text = decode_utf8(content, source=source) if isinstance(content, bytes) else content
    try:
        return json.loads(
            text,
            object_pairs_hook=_pairs_without_duplicates,
        )
    except json.JSONDecodeError as error:
        hint = ""
        if error.pos >= len(text.rstrip()):
            hint = "; the file looks truncated"
        raise IntakeError(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}){hint}",
            file=source,
            line=error.lineno,
        ) from None
    except RecursionError:
        raise IntakeError(
            "the JSON is nested too deeply to read; flatten the document", file=source
        ) from None
    except ValueError as error:
        raise IntakeError(f"not valid JSON: {error}", file=source) from None


def looks_like_json(content: bytes | str) -> bool:
    """True when the first non-blank character opens a JSON object or array."""
    head = content[:4096].lstrip()
    if isinstance(head, bytes):
        head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        return head[:1] in (b"{", b"[")
    return head.removeprefix("\ufeff").lstrip()[:1] in ("{", "[")


def facts_from_document(
    document: dict[str, Any],
    imported: Imported,
    *,
    lines: dict[str, int] | None = None,
    prefix: str = "",
) -> None:
    """Copy the facts of an already validated filing `document` into `imported`.

    Fields are dotted paths (`model.parameters`); lists of enum values are one field.
    Diagnostics become `Diagnostic`s located at their list item; evidence is kept as given
    (with its `confidential` mark); `confidential_sections` is kept as metadata (not scored).
    """
    source = imported.source
    for section in FACT_SECTIONS:
        values = document.get(section)
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            path = f"{section}.{name}"
            shown = f"{prefix}{path}"
            imported.set_fact(
                path, value, Location(file=source, line=_line_for(shown, lines), field=shown)
            )
    for index, entry in enumerate(document.get("diagnostics") or []):
        shown = f"{prefix}diagnostics[{index}]"
        notes = entry.get("notes")
        declared = entry.get("source")
        if declared and declared != source:
            # The lab says the value came from another file: keep that in the notes, the
            # location stays this filing because this filing is what asserts the value.
            notes = f"{notes}; reported from {declared}" if notes else f"reported from {declared}"
        imported.diagnostics.append(
            Diagnostic(
                metric=entry["metric"],
                value=float(entry["value"]),
                location=Location(file=source, line=_line_for(shown, lines), field=shown),
                ci_low=_optional_float(entry.get("ci_low")),
                ci_high=_optional_float(entry.get("ci_high")),
                n=int(entry["n"]) if entry.get("n") is not None else None,
                suite=entry.get("suite"),
                notes=notes,
                method=entry.get("method"),
                supersedes=entry.get("supersedes"),
            )
        )
    for index, item in enumerate(document.get("evidence") or []):
        shown = f"{prefix}evidence[{index}]"
        imported.evidence.append(dict(item))
        imported.provenance[f"evidence[{item['file']}]"] = Location(
            file=source, line=_line_for(shown, lines), field=shown
        )
    titles = document.get(CONFIDENTIAL_SECTIONS_KEY)
    if titles:
        shown = f"{prefix}{CONFIDENTIAL_SECTIONS_KEY}"
        imported.set_metadata(
            CONFIDENTIAL_SECTIONS_KEY,
            list(titles),
            Location(file=source, line=_line_for(shown, lines), field=shown),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def import_filing(source: str, content: bytes) -> Imported:
    """Import a native filing (YAML or JSON) and validate it strictly against schema v1.

    Raises IntakeError/IntakeErrors naming the file, line (YAML) and field path of every
    problem. Returns the facts with provenance (file, line of the key, field path).
    """
    lines: dict[str, int] | None
    if looks_like_json(content):
        document = load_json(content, source=source)
        lines = None
    else:
        loaded = load_yaml(content, source=source)
        document, lines = loaded.value, loaded.lines
    if document is None:
        raise IntakeError(
            "the filing is empty; start from `filing_schema: govportal/filing/1`", file=source
        )
    validate_filing(document, source, lines=lines)
    imported = Imported(source=source, kind="filing")
    facts_from_document(document, imported, lines=lines)
    return imported
