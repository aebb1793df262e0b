"""What every diagnostics reader shares: kinds, limits, decoding, metric naming, and the
final pass (aliases, catalogue ranges, intervals, repeats) that turns what a reader found
into the file's diagnostics.

Pure Python: nothing here imports Django or pandas.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audits.intake.aliases import TABLE_NAMESPACE, Aliases
from audits.intake.catalogue import CATALOGUE, UNIT_RANGES, check_metric_value
from audits.intake.types import Diagnostic, Imported, IntakeError, Location
from audits.intake.yaml_safe import decode_utf8

KIND_TABLE = "diagnostics_table"
KIND_WIDE_TABLE = "diagnostics_wide_table"
KIND_LM_EVAL = "lm_eval"
KIND_LIGHTEVAL = "lighteval"
KIND_HELM = "helm"
KIND_INSPECT = "inspect"
KINDS = frozenset(
    {KIND_TABLE, KIND_WIDE_TABLE, KIND_LM_EVAL, KIND_LIGHTEVAL, KIND_HELM, KIND_INSPECT}
)
# Files that are runs of an evaluation harness (not a lab's own list of values): two of them
# disagreeing is two runs, which no `supersedes` key inside the file can settle.
RUN_KINDS = frozenset({KIND_WIDE_TABLE, KIND_LM_EVAL, KIND_LIGHTEVAL, KIND_HELM, KIND_INSPECT})

# What a lab can upload, for the message when a file is none of these.
FORMATS_HELP = (
    "upload a CSV/TSV table with 'metric' and 'value' columns (or one row per task with a "
    "column per metric), a JSON list of records with 'metric' and 'value', "
    "lm-evaluation-harness or lighteval results JSON, a zipped HELM run directory, or an "
    "Inspect log (.json or .eval)"
)

# Bounds on the work one file can cause (uploads are already capped in bytes). Each refusal
# says which bound was met and where; tests lower them with monkeypatch.
MAX_TABLE_ROWS = 2_000_000
MAX_DUPLICATE_ROWS = 1_000  # rows of a summary table that repeat an earlier row
MAX_DISTINCT_METRICS = 10_000
MAX_METRIC_NAME_CHARS = 300
MAX_IMPORT_SECONDS = 30.0  # processor time of the importing thread

BOM = "\ufeff"
_SHOTS = re.compile(r"@(\d+)shot$")


class Budget:
    """The processor time one file may take, checked between steps and inside long loops.

    Thread time, not wall time: a busy machine does not make a file refused.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.seconds = MAX_IMPORT_SECONDS
        self.deadline = time.thread_time() + self.seconds

    def check(self, doing: str, *, line: int | None = None, field: str | None = None) -> None:
        if time.thread_time() > self.deadline:
            raise IntakeError(
                f"reading the file took more than {self.seconds:g} s of processing time "
                f"(stopped while {doing}); split it into smaller files",
                file=self.source,
                line=line,
                field=field,
            )


@dataclass
class Found:
    """A diagnostic as read, before the aliases and the catalogue checks."""

    diagnostic: Diagnostic
    namespace: str | None  # alias namespace; None when the reader already resolved it
    external: str  # the name looked up in the aliases
    computed_interval: bool = False  # interval derived by us (stderr or aggregation)
    # Where a given column of this diagnostic's row is (tables); else its own location.
    column_at: Callable[[str], Location] | None = None

    def at(self, column: str) -> Location:
        if self.column_at is not None:
            return self.column_at(column)
        return self.diagnostic.location


def with_shots(name: str, shots: int | None) -> str:
    """`acc` with 5 shots -> `acc@5shot`: the few-shot count is part of a metric's name.

    0-shot and 5-shot runs of one task are different measurements, so they file side by
    side instead of conflicting; a file that does not state its shots adds nothing.
    """
    return name if shots is None else f"{name}@{shots}shot"


def split_shots(name: str) -> tuple[str, int | None]:
    """The inverse of `with_shots`: `acc@5shot` -> (`acc`, 5)."""
    match = _SHOTS.search(name)
    if match is None:
        return name, None
    return name[: match.start()], int(match[1])


def parse_shots(value: Any) -> int | None:
    """A few-shot count from a JSON value (5, 5.0 or "5"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        return int(value)
    if isinstance(value, (int, float)) and math.isfinite(value) and value == int(value):
        return int(value) if value >= 0 else None
    return None


def decode_text(source: str, content: bytes) -> str:
    """UTF-8 text of an upload (a byte-order mark is dropped); binary data and other
    encodings are refused with the line they are on (`yaml_safe.decode_utf8`)."""
    if b"\x00" in content:
        raise binary_error(source, content)
    return decode_utf8(content, source=source)


def looks_binary(content: bytes) -> bool:
    """Bytes that are not text at all (rather than text with one bad character in it)."""
    sample = content[:8192]
    if sample.count(0) > max(1, len(sample) // 100):
        return True
    if b"\x00" not in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(sample) - 3  # not merely a character cut at the sample's end
    return False


def binary_error(source: str, content: bytes) -> IntakeError:
    """The refusal of a file with a NUL byte: binary data, or text with a stray NUL."""
    offset = content.find(b"\x00")
    line = content.count(b"\n", 0, offset) + 1
    if looks_binary(content):
        return IntakeError(
            f"the file is binary, not text (a NUL byte on line {line}); {FORMATS_HELP}",
            file=source,
            line=line,
        )
    column = offset - (content.rfind(b"\n", 0, offset) + 1) + 1
    return IntakeError(
        f"the file contains a NUL character (line {line}, column {column}), which text "
        "cannot hold; remove it and upload the file again",
        file=source,
        line=line,
    )


def load_json(source: str, text: str | bytes) -> Any:
    """Parse JSON; syntax errors name the line, and too deep nesting is refused."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(exc.doc.rstrip()) - 1
        hint = (
            "the file ends too early (truncated?); upload the complete file"
            if truncated
            else "fix the JSON syntax there"
        )
        raise IntakeError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; {hint}",
            file=source,
            line=exc.lineno,
        ) from exc
    except RecursionError as exc:
        raise IntakeError(
            "the JSON is nested too deeply to read; diagnostics files are shallow documents",
            file=source,
        ) from exc
    except ValueError as exc:  # e.g. integers with more digits than Python converts
        raise IntakeError(f"not valid JSON: {exc}", file=source) from exc


def number(value: Any) -> float | None:
    """A finite float from a JSON value, or None (text, null, bool, NaN, inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    converted = float(value)
    return converted if math.isfinite(converted) else None


def count(value: Any) -> int | None:
    """A sample count from a JSON value (a non-negative whole number), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0 or value != int(value):
        return None
    return int(value)


def json_object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (optional blocks may be absent)."""
    return value if isinstance(value, dict) else {}


def shown(value: Any) -> str:
    """A short rendering of a JSON value for a message."""
    return json.dumps(value, default=str)[:40]


def join_notes(*parts: str | None) -> str | None:
    text = "; ".join(part for part in parts if part)
    return text or None


def offer_model(imported: Imported, model: Any, location: Location) -> str | None:
    """Offer the model a run evaluated as `model.name` (it counts only when no input names
    the model; see `merge`). Local paths are not names. Returns the name kept, if any."""
    if not isinstance(model, str) or not model.strip():
        return None
    name = model.strip()
    if name.startswith(("/", "./", "../", "~")) or "\\" in name:
        return None
    imported.offer("model.name", name, location)
    return name


def resolve(aliases: Aliases, namespace: str, name: str, *, shown: str) -> tuple[str, str | None]:
    """The catalogue id `name` maps to (or `shown` itself), and a note saying so."""
    rule = aliases.match(namespace, name)
    if rule is None:
        return shown, None
    return rule.metric, f"reported as {shown}, mapped by alias {rule.key!r}"


def finish(imported: Imported, found: list[Found], aliases: Aliases, budget: Budget) -> None:
    """Apply aliases, check names, catalogue ranges and intervals, and fold repeats.

    A metric reported twice with the same value is kept once with a warning; with different
    values it is refused, with advice that fits the file's format.
    """
    if len(found) > MAX_DISTINCT_METRICS:
        raise IntakeError(
            f"the file reports more than {MAX_DISTINCT_METRICS:,} metrics; a filing's "
            "diagnostics are summaries, so split the file or aggregate it first",
            **found[MAX_DISTINCT_METRICS].at("metric").as_dict(),
        )
    kept: dict[str, Diagnostic] = {}
    for index, item in enumerate(found):
        if index % 1000 == 0:
            budget.check("checking the metrics", **_line_and_field(item.at("metric")))
        diagnostic = item.diagnostic
        if len(diagnostic.metric) > MAX_METRIC_NAME_CHARS:
            raise IntakeError(
                f"a metric name of {len(diagnostic.metric):,} characters "
                f"({diagnostic.metric[:40]!r}…); name metrics in at most "
                f"{MAX_METRIC_NAME_CHARS} characters",
                **item.at("metric").as_dict(),
            )
        alias_note = None
        if item.namespace is not None and diagnostic.metric not in CATALOGUE:
            diagnostic.metric, alias_note = resolve(
                aliases, item.namespace, item.external, shown=diagnostic.metric
            )
            diagnostic.notes = join_notes(alias_note, diagnostic.notes)
        problem = check_metric_value(diagnostic.metric, diagnostic.value)
        if problem:
            raise IntakeError(
                problem + (f" ({alias_note})" if alias_note else ""),
                **item.at("value").as_dict(),
            )
        _check_interval(item)
        previous = kept.get(diagnostic.metric)
        if previous is None:
            kept[diagnostic.metric] = diagnostic
            imported.diagnostics.append(diagnostic)
        elif (previous.value, previous.ci_low, previous.ci_high, previous.n) == (
            diagnostic.value,
            diagnostic.ci_low,
            diagnostic.ci_high,
            diagnostic.n,
        ):
            imported.warn(
                f"metric {diagnostic.metric} is reported twice with the same value "
                f"(also at {previous.location}); kept once",
                diagnostic.location,
                kind="repeated_metric",
            )
        else:
            raise IntakeError(
                f"metric {diagnostic.metric} is reported twice with different values: "
                f"{diagnostic.value!r} here and {previous.value!r} at {previous.location}; "
                + _repeat_advice(imported.kind, item, alias_note),
                **item.at("metric").as_dict(),
            )


def _line_and_field(location: Location) -> dict[str, Any]:
    return {"line": location.line, "field": location.field}


def _repeat_advice(kind: str, item: Found, alias_note: str | None) -> str:
    if alias_note is not None:
        return (
            "both are mapped to this catalogue metric by the alias file; file the run that "
            "measures it, or ask the regulator to narrow the alias"
        )
    if kind == KIND_TABLE and item.namespace == TABLE_NAMESPACE:
        return (
            "keep one row per metric (upload a corrected value as a separate file marked as "
            "superseding the old one)"
        )
    if kind == KIND_TABLE:
        return "keep each sample's rows under one metric name"
    return "the file holds two results for it; keep one of them"


def _check_interval(item: Found) -> None:
    diagnostic = item.diagnostic
    entry = CATALOGUE.get(diagnostic.metric)
    if entry is None or diagnostic.ci_low is None or diagnostic.ci_high is None:
        return
    low, high = UNIT_RANGES[entry.unit]
    if item.computed_interval:
        # A normal or t interval around a bounded value can spill past the bound; the true
        # interval cannot, so cutting it at the unit range loses nothing.
        clipped_low, clipped_high = max(diagnostic.ci_low, low), min(diagnostic.ci_high, high)
        if (clipped_low, clipped_high) != (diagnostic.ci_low, diagnostic.ci_high):
            diagnostic.ci_low, diagnostic.ci_high = clipped_low, clipped_high
            diagnostic.method = join_notes(
                diagnostic.method, f"interval clipped to the {entry.unit} range"
            )
        return
    for column in ("ci_low", "ci_high"):
        problem = check_metric_value(diagnostic.metric, getattr(diagnostic, column))
        if problem:
            raise IntakeError(f"{column}: {problem}", **item.at(column).as_dict())
