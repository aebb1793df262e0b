"""Diagnostic-file importers: summary and per-sample tables, lm-eval results, Inspect logs.

Every reported metric becomes a `Diagnostic` whose location names the file and the line or
field it came from. Names follow the source (`lm_eval.<task>.<metric>`,
`inspect.<task>.<score>.<metric>`, or a table's `metric` column); the alias file maps the
ones that measure a catalogue metric to its id, and catalogue values are range-checked.

Pure Python (pandas, scipy): nothing here imports Django.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from audits.intake.aliases import TABLE_NAMESPACE, Aliases, default_aliases
from audits.intake.catalogue import CATALOGUE, UNIT_RANGES, check_metric_value
from audits.intake.types import Diagnostic, Imported, IntakeError, Location

KIND_TABLE = "diagnostics_table"
KIND_LM_EVAL = "lm_eval"
KIND_INSPECT = "inspect"

SUMMARY_COLUMNS = ("metric", "value", "ci_low", "ci_high", "n", "suite", "notes", "supersedes")
PER_SAMPLE_COLUMNS = ("metric", "sample_id", "value", "suite", "notes", "supersedes")
_NUMERIC_COLUMNS = ("value", "ci_low", "ci_high", "n")
_TEXT_COLUMNS = ("metric", "sample_id", "suite", "notes", "supersedes")

# Limits. Uploads are already capped in size by the evidence store; these bound the work
# one file can cause here (rows parsed, zip entries listed, bytes inflated).
MAX_TABLE_ROWS = 5_000_000
MAX_EVAL_ENTRIES = 100_000
MAX_EVAL_DECLARED_BYTES = 1024 * 1024 * 1024  # sum of all entries' declared sizes
MAX_EVAL_ENTRY_BYTES = 64 * 1024 * 1024  # any single entry we inflate
MAX_EVAL_RATIO = 100  # inflated/compressed, for entries above the size below
EVAL_RATIO_MIN_BYTES = 1024 * 1024
_ZIP_CHUNK = 1024 * 1024

Z_95 = float(stats.norm.ppf(0.975))
STDERR_METHOD = "reported stderr; normal 95% interval (value ± 1.96·stderr)"

_LM_EVAL_V04_KEYS = ("configs", "n-samples", "higher_is_better", "group_subtasks", "n-shot")
_INSPECT_PREFIXES = ("inspect_ai/", "inspect_evals/")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_BOM = "\ufeff"

# What a lab can upload, for the message when a file is none of these.
_FORMATS_HELP = (
    "upload a CSV/TSV table with 'metric' and 'value' columns, a JSON list of records with "
    "'metric' and 'value', an lm-evaluation-harness results JSON, or an Inspect log "
    "(.json or .eval)"
)


def detect(source: str, content: bytes) -> str | None:
    """The kind of diagnostics file `content` is, judged by its bytes.

    Returns "diagnostics_table", "lm_eval", "inspect", or None when it is not a diagnostics
    file. `source` (the uploaded file name) only breaks ties: a `.eval` upload is taken as an
    Inspect log even when it turns out not to be a zip, so the import can say so.
    """
    return _sniff(source, content).kind


def import_diagnostics(source: str, content: bytes, *, aliases: Aliases | None = None) -> Imported:
    """Import one diagnostics file into diagnostics with provenance and warnings.

    `aliases` defaults to the shipped alias file; pass `Aliases.load().extended(...)` to add
    an admin's rows. Raises IntakeError (naming the file and the line or field) when the file
    cannot be accepted.
    """
    aliases = aliases if aliases is not None else default_aliases()
    sniffed = _sniff(source, content)
    if sniffed.kind is None:
        raise sniffed.problem or IntakeError(
            f"not a diagnostics file: {_FORMATS_HELP}", file=source
        )
    imported = Imported(source=source, kind=sniffed.kind)
    if sniffed.kind == KIND_TABLE:
        found = _import_table(imported, content, sniffed.document, aliases)
    elif sniffed.kind == KIND_LM_EVAL:
        found = _import_lm_eval(imported, sniffed.document)
    else:
        found = _import_inspect(imported, content, sniffed.document)
    _finish(imported, found, aliases)
    return imported


# --------------------------------------------------------------------------- detection


@dataclass
class _Sniffed:
    kind: str | None
    document: Any = None  # the parsed JSON, when the file is JSON
    problem: IntakeError | None = None  # why it is not a diagnostics file, when known


def _sniff(source: str, content: bytes) -> _Sniffed:
    is_eval_name = source.lower().endswith(".eval")
    if content.startswith(_ZIP_MAGIC):
        if is_eval_name or _zip_has_inspect_entries(content):
            return _Sniffed(KIND_INSPECT)
        return _Sniffed(
            None,
            problem=IntakeError(
                f"a zip archive that is not an Inspect .eval log: {_FORMATS_HELP}", file=source
            ),
        )
    if is_eval_name:
        return _Sniffed(KIND_INSPECT)  # the import reports that it is not a zip
    head = content[:65536]
    if b"\x00" in head:
        return _Sniffed(None, problem=_binary_error(source, content))
    head_text = head.decode("utf-8", errors="replace").lstrip(_BOM)
    stripped = head_text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = _load_json(source, _decode(source, content))
        except IntakeError as exc:
            return _Sniffed(None, problem=exc)
        return _sniff_json(source, document)
    first_line = head_text.split("\n", 1)[0]
    if _table_header(source, first_line) is not None:
        return _Sniffed(KIND_TABLE)
    return _Sniffed(
        None,
        problem=IntakeError(
            "not a diagnostics table: line 1 must be a header naming at least the columns "
            f"'metric' and 'value' (found {first_line[:80]!r}); {_FORMATS_HELP}",
            file=source,
            line=1,
        ),
    )


def _sniff_json(source: str, document: Any) -> _Sniffed:
    if isinstance(document, dict):
        if _is_lm_eval(document):
            return _Sniffed(KIND_LM_EVAL, document)
        if _is_inspect_log(document):
            return _Sniffed(KIND_INSPECT, document)
        return _Sniffed(
            None,
            problem=IntakeError(
                "a JSON object that is neither lm-evaluation-harness results (top-level "
                "'results' of task -> metrics with 'versions'/'config' or 'configs'/'n-samples') "
                f"nor an Inspect log ('version', 'eval', 'results'); {_FORMATS_HELP}",
                file=source,
            ),
        )
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, dict) and {"metric", "value"} <= {
            str(k).strip().lower() for k in first
        }:
            return _Sniffed(KIND_TABLE, document)
        return _Sniffed(
            None,
            problem=IntakeError(
                "a JSON list that is not a list of records with 'metric' and 'value' keys "
                f"(its first item is {_describe(first)}); {_FORMATS_HELP}",
                file=source,
                field="[0]",
            ),
        )
    return _Sniffed(
        None, problem=IntakeError(f"not a diagnostics file: {_FORMATS_HELP}", file=source)
    )


def _describe(item: Any) -> str:
    if item is None:
        return "absent: the list is empty"
    if isinstance(item, dict):
        keys = ", ".join(str(key) for key in list(item)[:6])
        return f"an object with keys {keys}" if keys else "an empty object"
    return f"a JSON {type(item).__name__}"


def _is_lm_eval(document: dict[str, Any]) -> bool:
    results = document.get("results")
    if not isinstance(results, dict) or not results:
        return False
    if not all(isinstance(metrics, dict) for metrics in results.values()):
        return False
    return (
        "versions" in document
        or "config" in document
        or any(key in document for key in _LM_EVAL_V04_KEYS)
    )


def _is_inspect_log(document: dict[str, Any]) -> bool:
    return (
        "version" in document
        and isinstance(document.get("eval"), dict)
        and ("results" in document or "status" in document)
    )


def _zip_has_inspect_entries(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "header.json" in names or "_journal/start.json" in names


# --------------------------------------------------------------------------- shared helpers


@dataclass
class _Found:
    """A diagnostic as read, before the aliases and the catalogue checks."""

    diagnostic: Diagnostic
    namespace: str | None  # alias namespace; None when the table already resolved it
    external: str  # the name looked up in the aliases
    computed_interval: bool = False  # interval derived by us (stderr or aggregation)
    # Where a given column of this diagnostic's row is (tables); else its own location.
    column_at: Callable[[str], Location] | None = None

    def at(self, column: str) -> Location:
        if self.column_at is not None:
            return self.column_at(column)
        return self.diagnostic.location


def _decode(source: str, content: bytes) -> str:
    if b"\x00" in content:
        raise _binary_error(source, content)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise IntakeError(
            f"the file is not UTF-8 text (byte 0x{content[exc.start]:02x} on line {line}); "
            "save or export it as UTF-8 and upload it again",
            file=source,
            line=line,
        ) from exc
    return text[1:] if text.startswith(_BOM) else text


def _binary_error(source: str, content: bytes) -> IntakeError:
    offset = content.find(b"\x00")
    line = content.count(b"\n", 0, offset) + 1
    return IntakeError(
        f"the file is binary, not text (a NUL byte on line {line}); {_FORMATS_HELP}",
        file=source,
        line=line,
    )


def _load_json(source: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
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


def _number(value: Any) -> float | None:
    """A finite float from a JSON value, or None (text, null, bool, NaN, inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (optional blocks may be absent)."""
    return value if isinstance(value, dict) else {}


def _join_notes(*parts: str | None) -> str | None:
    text = "; ".join(part for part in parts if part)
    return text or None


def _resolve(aliases: Aliases, namespace: str, name: str, *, shown: str) -> tuple[str, str | None]:
    """The catalogue id `name` maps to (or `shown` itself), and a note saying so."""
    rule = aliases.match(namespace, name)
    if rule is None:
        return shown, None
    return rule.metric, f"reported as {shown}, mapped by alias {rule.key!r}"


def _finish(imported: Imported, found: list[_Found], aliases: Aliases) -> None:
    """Apply aliases, check catalogue ranges and refuse conflicting duplicates."""
    kept: dict[str, Diagnostic] = {}
    for item in found:
        diagnostic = item.diagnostic
        alias_note = None
        if item.namespace is not None and diagnostic.metric not in CATALOGUE:
            diagnostic.metric, alias_note = _resolve(
                aliases, item.namespace, item.external, shown=diagnostic.metric
            )
            diagnostic.notes = _join_notes(alias_note, diagnostic.notes)
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
            )
        else:
            raise IntakeError(
                f"metric {diagnostic.metric} is reported twice with different values: "
                f"{diagnostic.value!r} here and {previous.value!r} at {previous.location}; "
                "keep one row per metric (upload a corrected value as a separate file "
                "marked as superseding the old one)",
                **item.at("metric").as_dict(),
            )


def _check_interval(item: _Found) -> None:
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
            diagnostic.method = _join_notes(
                diagnostic.method, f"interval clipped to the {entry.unit} range"
            )
        return
    for column in ("ci_low", "ci_high"):
        problem = check_metric_value(diagnostic.metric, getattr(diagnostic, column))
        if problem:
            raise IntakeError(f"{column}: {problem}", **item.at(column).as_dict())


# --------------------------------------------------------------------------- tables


@dataclass
class _Table:
    """A diagnostics table with normalized column names, and where each row came from."""

    source: str
    frame: pd.DataFrame
    lines: array[int] | None  # text tables: the line each row starts on (header = line 1)

    def where(self, row: int, column: str | None = None) -> Location:
        if self.lines is not None:
            return Location(self.source, line=int(self.lines[row]), field=column)
        return Location(self.source, field=f"[{row}].{column}" if column else f"[{row}]")

    def error(self, row: int, column: str | None, message: str) -> IntakeError:
        return IntakeError(message, **self.where(row, column).as_dict())


def _import_table(
    imported: Imported, content: bytes, records: Any, aliases: Aliases
) -> list[_Found]:
    source = imported.source
    table = _records_table(source, records) if records is not None else _text_table(source, content)
    if table.frame.empty:
        raise IntakeError(
            "the table has a header but no rows; add one row per metric (or per sample)",
            file=source,
            line=2 if table.lines is not None else None,
        )
    per_sample = "sample_id" in table.frame.columns
    _check_numbers(table, per_sample=per_sample)
    if per_sample:
        return _aggregate_samples(table, aliases)
    return _summary_rows(table)


def _check_columns(source: str, names: list[str], *, line: int | None) -> None:
    where = {"line": line} if line is not None else {}
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IntakeError(
                f"column {name!r} appears twice in the header; keep one",
                file=source,
                field=name,
                **where,
            )
        seen.add(name)
    per_sample = "sample_id" in seen
    allowed = PER_SAMPLE_COLUMNS if per_sample else SUMMARY_COLUMNS
    for name in names:
        if name in allowed:
            continue
        if per_sample and name in SUMMARY_COLUMNS:
            raise IntakeError(
                f"column {name!r} is not allowed in a per-sample table (one with sample_id): "
                "value, n and the 95% interval are computed from the samples; remove it",
                file=source,
                field=name,
                **where,
            )
        raise IntakeError(
            f"unknown column {name!r}; allowed columns: {', '.join(SUMMARY_COLUMNS)}, "
            "and sample_id for a per-sample table",
            file=source,
            field=name,
            **where,
        )
    for required in ("metric", "value"):
        if required not in seen:
            raise IntakeError(
                f"the header has no {required!r} column; columns found: {', '.join(names)}",
                file=source,
                field=required,
                **where,
            )


def _delimiter(source: str, first_line: str) -> str:
    lowered = source.lower()
    if lowered.endswith(".tsv") or lowered.endswith(".tab"):
        return "\t"
    if lowered.endswith(".csv"):
        return ","
    return "\t" if "\t" in first_line else ","


def _header_names(first_line: str, delimiter: str) -> list[str]:
    try:
        row = next(csv.reader([first_line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [name.strip().lower() for name in row]


def _table_header(source: str, first_line: str) -> list[str] | None:
    names = _header_names(first_line, _delimiter(source, first_line))
    return names if {"metric", "value"} <= set(names) else None


def _text_table(source: str, content: bytes) -> _Table:
    if content.count(b"\n") > MAX_TABLE_ROWS + 1:
        raise IntakeError(
            f"the table has more than {MAX_TABLE_ROWS:,} rows; split it into several files",
            file=source,
        )
    text = _decode(source, content)
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(source, first_line)
    names = _header_names(first_line, delimiter)
    _check_columns(source, names, line=1)
    lines = _row_lines(source, text, delimiter, names)
    del text  # pandas reads the bytes; the decoded copy is no longer needed
    body = content[3:] if content.startswith(_BOM.encode()) else content
    dtypes: dict[str, Any] = dict.fromkeys(names, str)
    # Categorical keeps one copy of each metric name instead of one per row.
    dtypes["metric"] = "category"
    try:
        frame = pd.read_csv(
            io.BytesIO(body),
            sep=delimiter,
            header=0,
            names=names,  # the normalized names, so dtypes and checks use them
            dtype=dtypes,
            na_filter=False,  # empty stays "", and "NaN" stays text we can name in errors
            skip_blank_lines=True,
            engine="c",
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise IntakeError(f"the table cannot be read: {exc}", file=source) from exc
    if len(frame) != len(lines):
        raise IntakeError(
            f"the table reads as {len(frame)} rows by one parser and {len(lines)} by another; "
            "check the quoting (a field with the delimiter or a line break must be in "
            "double quotes, with inner quotes doubled)",
            file=source,
        )
    return _Table(source, frame, lines)


def _row_lines(source: str, text: str, delimiter: str, names: list[str]) -> array[int]:
    """Check every row has the header's number of fields; return each row's start line.

    pandas fills a short row with empty fields without saying so; this pass refuses
    ragged rows and remembers line numbers for every later message.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines = array("l")
    expected = len(names)
    previous = 0
    try:
        next(reader)  # the header, checked already
        previous = reader.line_num
        for row in reader:
            start = previous + 1
            previous = reader.line_num
            if not row:
                continue  # a blank line; pandas skips it too
            if len(row) != expected:
                raise IntakeError(
                    f"line {start} has {len(row)} field{'s' if len(row) != 1 else ''} but the "
                    f"header has {expected} ({', '.join(names)}); quote fields that contain "
                    f"{'a tab' if delimiter == chr(9) else 'a comma'}, and give every row "
                    "every column (empty is allowed for optional ones)",
                    file=source,
                    line=start,
                )
            lines.append(start)
    except csv.Error as exc:
        raise IntakeError(
            f"the table cannot be read near line {previous + 1}: {exc}",
            file=source,
            line=previous + 1,
        ) from exc
    return lines


def _records_table(source: str, records: list[Any]) -> _Table:
    if len(records) > MAX_TABLE_ROWS:
        raise IntakeError(
            f"the list has more than {MAX_TABLE_ROWS:,} records; split it into several files",
            file=source,
        )
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise IntakeError(
                f"record {index} is {type(record).__name__}, not an object with metric/value",
                file=source,
                field=f"[{index}]",
            )
    # Optional keys may be left out of some records; the columns are all keys used.
    names = list(dict.fromkeys(str(key).strip().lower() for record in records for key in record))
    _check_columns(source, names, line=None)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for index, record in enumerate(records):
        keys = {str(key).strip().lower(): value for key, value in record.items()}
        if len(keys) != len(record):
            raise IntakeError(
                "a key appears twice in this record (keys are case-insensitive)",
                file=source,
                field=f"[{index}]",
            )
        for name in names:
            value = keys.get(name)
            field = f"[{index}].{name}"
            if name in _NUMERIC_COLUMNS:
                columns[name].append(_record_number(source, field, name, value))
            else:
                columns[name].append(_record_text(source, field, name, value))
    frame = pd.DataFrame(
        {
            name: (
                np.asarray(values, dtype="float64")
                if name in _NUMERIC_COLUMNS
                else pd.Series(values, dtype=str)
            )
            for name, values in columns.items()
        }
    )
    frame["metric"] = frame["metric"].astype("category")
    return _Table(source, frame, None)


def _record_number(source: str, field: str, name: str, value: Any) -> float:
    if value is None:
        if name == "value":
            raise IntakeError("value is missing; give a number", file=source, field=field)
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IntakeError(
            f"{name} must be a JSON number, got {json.dumps(value)[:40]}",
            file=source,
            field=field,
        )
    number = float(value)
    if math.isnan(number):
        raise IntakeError(
            f"{name} is NaN; give a number, or leave the metric out if it was not measured",
            file=source,
            field=field,
        )
    if math.isinf(number):
        raise IntakeError(f"{name} is infinite; give a finite number", file=source, field=field)
    return number


def _record_text(source: str, field: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "sample_id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise IntakeError(
            f"{name} must be text, got {json.dumps(value)[:40]}", file=source, field=field
        )
    return value.strip()


def _text_numbers(table: _Table, column: str, *, required: bool) -> np.ndarray:
    """Convert a text column to floats; name the first row that is not a finite number."""
    raw = table.frame[column].astype(str)
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(numbers)
    if not required:  # an empty optional cell is "not given", not an error
        bad &= ~raw.str.strip().eq("").to_numpy()
    if not bad.any():
        return numbers
    row = int(np.flatnonzero(bad)[0])
    text = raw.iloc[row].strip()
    word = text.lower().lstrip("+-")
    if not text:
        message = f"{column} is empty; give a number"
    elif word == "nan":
        message = f"{column} is NaN; give a number, or leave the metric out if it was not measured"
    elif word in ("inf", "infinity"):
        message = f"{column} is infinite ({text!r}); give a finite number"
    elif not math.isnan(numbers[row]):
        message = f"{column} {text!r} is too large (it overflows to infinity)"
    else:
        message = f"{column} {text[:40]!r} is not a number"
    raise table.error(row, column, message)


def _check_numbers(table: _Table, *, per_sample: bool) -> None:
    """Turn numeric columns into floats and check them row by row, vectorized."""
    frame = table.frame
    if table.lines is not None:  # text: parse here; JSON records were checked while read
        for column in _NUMERIC_COLUMNS:
            if column in frame.columns:
                frame[column] = _text_numbers(table, column, required=column == "value")
    metric = frame["metric"]
    categories = metric.cat.categories
    # pandas infers numeric categories from names like "0"; names are text, and stripped.
    if not pd.api.types.is_string_dtype(categories.dtype) or (
        categories.str.strip().tolist() != categories.tolist()
    ):
        frame["metric"] = metric.astype(str).str.strip().astype("category")
        metric = frame["metric"]
    blank_metric = metric.astype(str).eq("").to_numpy()
    if blank_metric.any():
        raise table.error(
            int(np.flatnonzero(blank_metric)[0]), "metric", "metric is empty; name the metric"
        )
    if per_sample:
        sample_ids = frame["sample_id"].astype(str).str.strip()
        blank = sample_ids.eq("").to_numpy()
        if blank.any():
            raise table.error(
                int(np.flatnonzero(blank)[0]), "sample_id", "sample_id is empty; name the sample"
            )
        return
    if "n" in frame.columns:
        n = frame["n"].to_numpy()
        negative = n < 0
        if negative.any():
            row = int(np.flatnonzero(negative)[0])
            raise table.error(
                row, "n", f"n is negative ({n[row]:g}); n counts samples and must be 0 or more"
            )
        fractional = np.isfinite(n) & (n != np.floor(n))
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise table.error(row, "n", f"n must be a whole number of samples, got {n[row]:g}")
    has_low, has_high = "ci_low" in frame.columns, "ci_high" in frame.columns
    if has_low or has_high:
        value = frame["value"].to_numpy()
        low = frame["ci_low"].to_numpy() if has_low else np.full(len(frame), np.nan)
        high = frame["ci_high"].to_numpy() if has_high else np.full(len(frame), np.nan)
        one_sided = np.isnan(low) != np.isnan(high)
        if one_sided.any():
            row = int(np.flatnonzero(one_sided)[0])
            column = "ci_high" if np.isnan(high[row]) else "ci_low"
            raise table.error(
                row, column, f"{column} is missing; give both ci_low and ci_high, or neither"
            )
        outside = ~np.isnan(low) & ((low > value) | (value > high))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            column = "ci_low" if low[row] > value[row] else "ci_high"
            raise table.error(
                row,
                column,
                f"the interval [{low[row]:g}, {high[row]:g}] does not contain the value "
                f"{value[row]:g}; ci_low <= value <= ci_high must hold",
            )


def _summary_rows(table: _Table) -> list[_Found]:
    frame = table.frame
    found: list[_Found] = []
    columns = list(frame.columns)
    for row, values in enumerate(frame.itertuples(index=False, name=None)):
        record = dict(zip(columns, values, strict=True))
        name = str(record["metric"])
        optional = {
            key: (None if math.isnan(record[key]) else record[key])
            for key in ("ci_low", "ci_high", "n")
            if key in record
        }
        n = optional.get("n")
        diagnostic = Diagnostic(
            metric=name,
            value=float(record["value"]),
            location=table.where(row, "metric"),
            ci_low=optional.get("ci_low"),
            ci_high=optional.get("ci_high"),
            n=int(n) if n is not None else None,
            suite=str(record.get("suite") or "").strip() or None,
            notes=str(record.get("notes") or "").strip() or None,
            supersedes=str(record.get("supersedes") or "").strip() or None,
        )
        found.append(
            _Found(diagnostic, TABLE_NAMESPACE, name, column_at=functools.partial(table.where, row))
        )
    return found


def _aggregate_samples(table: _Table, aliases: Aliases) -> list[_Found]:
    frame = table.frame
    duplicated = frame.duplicated(subset=["metric", "sample_id"]).to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        metric, sample = frame["metric"].iloc[row], frame["sample_id"].iloc[row]
        first = int(
            np.flatnonzero(
                (frame["metric"] == metric).to_numpy() & (frame["sample_id"] == sample).to_numpy()
            )[0]
        )
        raise table.error(
            row,
            "sample_id",
            f"sample {sample!r} of metric {metric} appears twice (first at "
            f"{table.where(first)}); give each sample (and epoch) its own sample_id",
        )
    # Resolve aliases per metric first: per-sample values must fall in the catalogue unit's
    # range too, and the row that breaks it is the one to name.
    first_rows = frame.drop_duplicates("metric")
    resolved: dict[str, tuple[str, str | None]] = {
        str(name): _resolve(aliases, TABLE_NAMESPACE, str(name), shown=str(name))
        for name in first_rows["metric"]
    }
    values = frame["value"]
    for name, (metric, note) in resolved.items():
        entry = CATALOGUE.get(metric)
        if entry is None:
            continue
        low, high = UNIT_RANGES[entry.unit]
        outside = ((frame["metric"] == name) & ~values.between(low, high)).to_numpy()
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            unit = entry.unit.replace("_", " ")
            raise table.error(
                row,
                "value",
                f"value {values.iloc[row]:g} is out of range for {metric} (unit: {unit}, "
                f"allowed [{low:g}, {high:g}])" + (f" ({note})" if note else ""),
            )
    shared = {
        column: _constant_per_metric(table, column)
        for column in ("suite", "notes", "supersedes")
        if column in frame.columns
    }
    groups = values.groupby(frame["metric"], observed=True, sort=False)
    summary = groups.agg(["count", "mean", "std", "min", "max"])
    binary = values.isin((0.0, 1.0)).groupby(frame["metric"], observed=True, sort=False).all()
    found: list[_Found] = []
    for row, name in zip(first_rows.index, first_rows["metric"], strict=True):
        name = str(name)
        stats_row = summary.loc[name]
        estimate = aggregate_samples_estimate(
            count=int(stats_row["count"]),
            mean=float(stats_row["mean"]),
            std=float(stats_row["std"]) if not pd.isna(stats_row["std"]) else 0.0,
            minimum=float(stats_row["min"]),
            maximum=float(stats_row["max"]),
            binary=bool(binary.loc[name]),
        )
        metric, note = resolved[name]
        diagnostic = Diagnostic(
            metric=metric,
            value=estimate.mean,
            location=table.where(int(row), "metric"),
            ci_low=estimate.ci_low,
            ci_high=estimate.ci_high,
            n=estimate.count,
            suite=shared.get("suite", {}).get(name),
            notes=_join_notes(note, shared.get("notes", {}).get(name)),
            method=estimate.method,
            supersedes=shared.get("supersedes", {}).get(name),
        )
        found.append(
            _Found(
                diagnostic,
                None,
                name,
                computed_interval=True,
                column_at=functools.partial(table.where, int(row)),
            )
        )
    return found


def _constant_per_metric(table: _Table, column: str) -> dict[str, str]:
    """The one non-empty `column` text of each metric; two different ones are an error."""
    frame = table.frame
    text = frame[column].astype(str).str.strip()
    present = text.ne("")
    if not present.any():
        return {}
    subset = pd.DataFrame({"metric": frame["metric"][present], column: text[present]})
    counts = subset.groupby("metric", observed=True)[column].nunique()
    conflicting = counts[counts > 1]
    if not conflicting.empty:
        name = conflicting.index[0]
        rows = subset[subset["metric"] == name]
        first_value = rows[column].iloc[0]
        other = rows.index[rows[column] != first_value][0]
        raise table.error(
            int(other),
            column,
            f"{column} differs within metric {name}: {rows[column].loc[other]!r} here and "
            f"{first_value!r} at {table.where(int(rows.index[0]))}; one {column} per metric",
        )
    firsts = subset.drop_duplicates("metric")
    return {str(name): value for name, value in zip(firsts["metric"], firsts[column], strict=True)}


@dataclass(frozen=True)
class SampleEstimate:
    """Mean of per-sample values with its 95% interval and how it was computed."""

    count: int
    mean: float
    ci_low: float | None
    ci_high: float | None
    method: str


def aggregate_samples_estimate(
    *, count: int, mean: float, std: float, minimum: float, maximum: float, binary: bool
) -> SampleEstimate:
    """The 95% interval for a mean: Wilson score for 0/1 samples, Student t otherwise.

    `std` is the sample standard deviation (ddof 1). One sample has no interval.
    """
    # Summing floats can put the mean of identical values an ulp outside them.
    mean = min(max(mean, minimum), maximum)
    samples = f"{count} sample{'s' if count != 1 else ''}"
    if binary:
        low, high = wilson_interval(mean, count)
        method = f"mean of {samples}; Wilson score 95% interval"
    elif count < 2:
        return SampleEstimate(count, mean, None, None, f"mean of {samples}; no interval")
    else:
        half = float(stats.t.ppf(0.975, count - 1)) * std / math.sqrt(count)
        low, high = mean - half, mean + half
        method = f"mean of {samples}; Student t 95% interval (df {count - 1})"
    return SampleEstimate(count, mean, min(low, mean), max(high, mean), method)


def wilson_interval(proportion: float, count: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion observed in `count` 0/1 samples."""
    z2 = z * z
    denominator = 1 + z2 / count
    centre = (proportion + z2 / (2 * count)) / denominator
    half = z * math.sqrt(proportion * (1 - proportion) / count + z2 / (4 * count * count))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------- lm-eval


def _import_lm_eval(imported: Imported, document: dict[str, Any]) -> list[_Found]:
    source = imported.source
    results: dict[str, Any] = document["results"]
    is_v04 = any(key in document for key in _LM_EVAL_V04_KEYS) or any(
        "," in str(key) for metrics in results.values() for key in metrics
    )
    version = document.get("lm_eval_version")
    if not isinstance(version, str) or not version.strip():
        version = "0.4" if is_v04 else "0.3"
    suite = f"lm-evaluation-harness {version}"
    n_samples = _object(document.get("n-samples"))
    n_shot = _lm_eval_n_shot(document)
    found: list[_Found] = []
    sections = [("results", results)]
    groups = document.get("groups")
    if isinstance(groups, dict):  # v0.4.0-0.4.2 repeat group scores here
        sections.append(("groups", {k: v for k, v in groups.items() if k not in results}))
    for section, tasks in sections:
        for task, metrics in tasks.items():
            if not isinstance(metrics, dict):
                imported.warn(
                    f"task {task} has no metrics object; skipped",
                    Location(source, field=f"{section}.{task}"),
                )
                continue
            shots = n_shot.get(task)
            found.extend(
                _lm_eval_task(
                    imported,
                    section=section,
                    task=str(task),
                    metrics=metrics,
                    suite=suite,
                    n=_lm_eval_n(n_samples.get(task)),
                    notes=f"{shots}-shot" if shots is not None else None,
                )
            )
    if not found:
        raise IntakeError(
            "the lm-evaluation-harness file reports no numeric metric", file=source, field="results"
        )
    return found


def _lm_eval_n_shot(document: dict[str, Any]) -> dict[str, int]:
    n_shot = document.get("n-shot")
    if isinstance(n_shot, dict):
        return {
            str(task): shots
            for task, shots in n_shot.items()
            if isinstance(shots, int) and not isinstance(shots, bool)
        }
    config = document.get("config")
    shots = config.get("num_fewshot") if isinstance(config, dict) else None
    if isinstance(shots, int) and not isinstance(shots, bool):  # v0.3: one for the whole run
        return {str(task): shots for task in document["results"]}
    return {}


def _lm_eval_n(entry: Any) -> int | None:
    if isinstance(entry, dict):
        for key in ("effective", "original"):
            count = entry.get(key)
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                return count
    return None


def _lm_eval_task(
    imported: Imported,
    *,
    section: str,
    task: str,
    metrics: dict[str, Any],
    suite: str,
    n: int | None,
    notes: str | None,
) -> list[_Found]:
    source = imported.source
    reported: dict[str, tuple[Any, str]] = {}
    stderrs: dict[str, tuple[Any, str]] = {}
    for key, raw in metrics.items():
        key = str(key)
        if key == "alias":  # lm-eval's display name for the task, not a metric
            continue
        # v0.4 keys are "<metric>,<filter>"; the "none" filter is the plain metric.
        metric, _, filter_name = key.partition(",")
        is_stderr = metric.endswith("_stderr")
        base = metric[: -len("_stderr")] if is_stderr else metric
        name = base if filter_name in ("", "none") else f"{base}.{filter_name}"
        field = f"{section}.{task}.{key}"
        (stderrs if is_stderr else reported)[name] = (raw, field)
    found: list[_Found] = []
    for name, (raw, field) in reported.items():
        location = Location(source, field=field)
        value = _number(raw)
        if value is None:
            imported.warn(
                f"lm_eval.{task}.{name} is {json.dumps(raw)[:40]}, not a finite number; skipped",
                location,
            )
            stderrs.pop(name, None)
            continue
        diagnostic = Diagnostic(
            metric=f"lm_eval.{task}.{name}",
            value=value,
            location=location,
            n=n,
            suite=suite,
            notes=notes,
        )
        computed = False
        if name in stderrs:
            stderr_raw, stderr_field = stderrs.pop(name)
            stderr = _number(stderr_raw)
            if stderr is None or stderr < 0:
                imported.warn(
                    f"stderr of lm_eval.{task}.{name} is {json.dumps(stderr_raw)[:40]}; "
                    "the value is kept without an interval",
                    Location(source, field=stderr_field),
                )
            else:
                diagnostic.ci_low = value - Z_95 * stderr
                diagnostic.ci_high = value + Z_95 * stderr
                diagnostic.method = STDERR_METHOD
                computed = True
        found.append(_Found(diagnostic, "lm_eval", f"{task}/{name}", computed))
    for name, (raw, field) in stderrs.items():
        # A stderr whose metric is absent is still something the file reported.
        value = _number(raw)
        location = Location(source, field=field)
        if value is None:
            imported.warn(
                f"lm_eval.{task}.{name}_stderr is {json.dumps(raw)[:40]}, not a finite "
                "number; skipped",
                location,
            )
            continue
        imported.warn(f"stderr without its metric {name}; kept as its own diagnostic", location)
        diagnostic = Diagnostic(
            metric=f"lm_eval.{task}.{name}_stderr",
            value=value,
            location=location,
            n=n,
            suite=suite,
            notes=notes,
        )
        found.append(_Found(diagnostic, "lm_eval", f"{task}/{name}_stderr"))
    return found


# --------------------------------------------------------------------------- Inspect


def _import_inspect(imported: Imported, content: bytes, document: Any) -> list[_Found]:
    if document is not None:
        return _inspect_log(imported, document, prefix="")
    header = _read_eval_header(imported.source, content)
    return _inspect_log(imported, header, prefix="header.json:")


def _strip_prefix(name: str) -> str:
    for prefix in _INSPECT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _inspect_log(imported: Imported, log: dict[str, Any], *, prefix: str) -> list[_Found]:
    source = imported.source
    spec = _object(log.get("eval"))
    status = log.get("status")
    task_raw = spec.get("task")
    if not isinstance(task_raw, str) or not task_raw:
        raise IntakeError(
            "the Inspect log names no task (eval.task)", file=source, field=f"{prefix}eval.task"
        )
    task = _strip_prefix(task_raw)
    if status == "error":
        error = _object(log.get("error"))
        message = str(error.get("message") or "no message").strip().splitlines()[0][:200]
        raise IntakeError(
            f"the evaluation {task_raw} ended with an error ({message}) and has no results; "
            "fix the run and upload the log of a successful one",
            file=source,
            field=f"{prefix}status",
        )
    results = log.get("results")
    if not isinstance(results, dict):
        raise IntakeError(
            f"the Inspect log has no results (status {status!r}): the evaluation did not "
            "finish; upload the log of a finished run",
            file=source,
            field=f"{prefix}results",
        )
    if status != "success":
        imported.warn(
            f"the Inspect log's status is {status!r}, not 'success': its metrics cover only "
            "the samples that completed",
            Location(source, field=f"{prefix}status"),
        )
    packages = _object(spec.get("packages"))
    version = packages.get("inspect_ai")
    suite = f"inspect_ai {version}" if isinstance(version, str) else "inspect_ai"
    model = spec.get("model")
    notes = f"model {model}" if isinstance(model, str) else None
    completed, total = results.get("completed_samples"), results.get("total_samples")
    n = completed if isinstance(completed, int) and not isinstance(completed, bool) else None
    if n is not None and isinstance(total, int) and n < total:
        imported.warn(
            f"only {n} of {total} samples completed",
            Location(source, field=f"{prefix}results.completed_samples"),
        )
    scores = results.get("scores")
    if scores is None and isinstance(results.get("metrics"), dict):
        # EvalLog version 1 had a single scorer next to its metrics.
        scorer = _object(results.get("scorer"))
        scores = [{"name": scorer.get("name"), "metrics": results["metrics"]}]
        score_path = f"{prefix}results"
    else:
        score_path = f"{prefix}results.scores"
    if not isinstance(scores, list):
        raise IntakeError(
            "the Inspect log's results have no scores list", file=source, field=score_path
        )
    found: list[_Found] = []
    for index, score in enumerate(scores):
        path = f"{score_path}[{index}]" if score_path.endswith("scores") else score_path
        if not isinstance(score, dict):
            imported.warn("a score that is not an object; skipped", Location(source, field=path))
            continue
        found.extend(
            _inspect_score(imported, score, task=task, path=path, n=n, suite=suite, notes=notes)
        )
    if not found:
        raise IntakeError(
            "the Inspect log reports no numeric metric", file=source, field=score_path
        )
    return found


def _inspect_score(
    imported: Imported,
    score: dict[str, Any],
    *,
    task: str,
    path: str,
    n: int | None,
    suite: str,
    notes: str | None,
) -> list[_Found]:
    source = imported.source
    score_name = _strip_prefix(str(score.get("name") or score.get("scorer") or "score"))
    metrics = score.get("metrics")
    if not isinstance(metrics, dict):
        imported.warn("a score without metrics; skipped", Location(source, field=path))
        return []
    values: dict[str, tuple[float, str]] = {}
    for key, entry in metrics.items():
        field = f"{path}.metrics.{key}.value"
        raw = entry.get("value") if isinstance(entry, dict) else entry
        name = _strip_prefix(str(entry.get("name") or key) if isinstance(entry, dict) else key)
        if isinstance(raw, dict):  # a metric reporting several values, e.g. per group
            for sub_key, sub_raw in raw.items():
                _inspect_value(imported, values, f"{name}.{sub_key}", sub_raw, f"{field}.{sub_key}")
        else:
            _inspect_value(imported, values, name, raw, field)
    stderr = values.pop("stderr", None)
    target = _stderr_target(values) if stderr is not None else None
    found: list[_Found] = []
    for name, (value, field) in values.items():
        diagnostic = Diagnostic(
            metric=f"inspect.{task}.{score_name}.{name}",
            value=value,
            location=Location(source, field=field),
            n=n,
            suite=suite,
            notes=notes,
        )
        computed = False
        if stderr is not None and name == target:
            diagnostic.ci_low = value - Z_95 * stderr[0]
            diagnostic.ci_high = value + Z_95 * stderr[0]
            diagnostic.method = STDERR_METHOD
            computed = True
        found.append(_Found(diagnostic, "inspect", f"{task}/{score_name}/{name}", computed))
    if stderr is not None and target is None:
        location = Location(source, field=stderr[1])
        imported.warn(
            "stderr with no single metric to attach to; kept as its own diagnostic", location
        )
        diagnostic = Diagnostic(
            metric=f"inspect.{task}.{score_name}.stderr",
            value=stderr[0],
            location=location,
            n=n,
            suite=suite,
            notes=notes,
        )
        found.append(_Found(diagnostic, "inspect", f"{task}/{score_name}/stderr"))
    return found


def _inspect_value(
    imported: Imported, values: dict[str, tuple[float, str]], name: str, raw: Any, field: str
) -> None:
    value = _number(raw)
    if value is None:
        imported.warn(
            f"metric {name} is {json.dumps(raw)[:40]}, not a finite number; skipped",
            Location(imported.source, field=field),
        )
        return
    values[name] = (value, field)


def _stderr_target(values: dict[str, tuple[float, str]]) -> str | None:
    """The metric a score's stderr belongs to: the mean it is the standard error of."""
    for name in ("accuracy", "mean"):
        if name in values:
            return name
    candidates = [name for name in values if name not in ("std", "var")]
    return candidates[0] if len(candidates) == 1 else None


# --------------------------------------------------------------------------- .eval zip


def _read_eval_header(source: str, content: bytes) -> dict[str, Any]:
    """The header of a zipped Inspect log, read defensively.

    The archive's directory is checked (entry count, declared sizes, compression ratios)
    before anything is inflated, and the one entry read is inflated in bounded chunks, so a
    zip bomb is refused without being expanded.
    """
    if not content.startswith(_ZIP_MAGIC):
        raise IntakeError(
            "not a zip archive: an Inspect .eval log is a zip file; upload the .eval file "
            "exactly as Inspect wrote it, or the .json log",
            file=source,
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError(
            f"the .eval zip archive is damaged ({exc}); upload it again", file=source
        ) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_EVAL_ENTRIES:
            raise IntakeError(
                f"the .eval archive has {len(entries):,} entries, more than "
                f"{MAX_EVAL_ENTRIES:,}; refused as a possible zip bomb",
                file=source,
            )
        declared = sum(entry.file_size for entry in entries)
        if declared > MAX_EVAL_DECLARED_BYTES:
            raise IntakeError(
                f"the .eval archive declares {declared:,} bytes uncompressed, more than "
                f"{MAX_EVAL_DECLARED_BYTES:,}; refused as a possible zip bomb",
                file=source,
            )
        for entry in entries:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size > EVAL_RATIO_MIN_BYTES and ratio > MAX_EVAL_RATIO:
                raise IntakeError(
                    f"entry {entry.filename} expands {ratio:,.0f}:1 ({entry.file_size:,} "
                    f"bytes); more than {MAX_EVAL_RATIO}:1 is refused as a possible zip bomb",
                    file=source,
                    field=entry.filename,
                )
        names = {entry.filename: entry for entry in entries}
        if "header.json" in names:
            header = _zip_json(source, archive, names["header.json"])
        elif "_journal/start.json" in names:
            raise IntakeError(
                "the .eval log is unfinished: it has _journal/start.json but no header.json "
                "with results; upload the log once the evaluation has finished",
                file=source,
                field="header.json",
            )
        else:
            raise IntakeError(
                "a zip archive without header.json or _journal/start.json is not an Inspect "
                ".eval log",
                file=source,
            )
    if not isinstance(header, dict):
        raise IntakeError("header.json is not a JSON object", file=source, field="header.json")
    return header


def _zip_json(source: str, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Any:
    if entry.file_size > MAX_EVAL_ENTRY_BYTES:
        raise IntakeError(
            f"entry {entry.filename} declares {entry.file_size:,} bytes, more than "
            f"{MAX_EVAL_ENTRY_BYTES:,}",
            file=source,
            field=entry.filename,
        )
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(entry) as stream:
            for chunk in _chunks(stream):
                size += len(chunk)
                # The declared size can lie; stop at the limit instead of trusting it.
                if size > MAX_EVAL_ENTRY_BYTES:
                    raise IntakeError(
                        f"entry {entry.filename} inflates past {MAX_EVAL_ENTRY_BYTES:,} bytes; "
                        "refused as a possible zip bomb",
                        file=source,
                        field=entry.filename,
                    )
                chunks.append(chunk)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise IntakeError(
            f"entry {entry.filename} of the .eval archive cannot be read ({exc}); upload the "
            "file again as Inspect wrote it",
            file=source,
            field=entry.filename,
        ) from exc
    payload = b"".join(chunks)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(
            f"entry {entry.filename} is not UTF-8 JSON", file=source, field=entry.filename
        ) from exc
    try:
        return _load_json(source, text)
    except IntakeError as exc:
        raise IntakeError(
            f"entry {entry.filename}: {exc.message}",
            file=source,
            line=exc.location.line,
            field=entry.filename,
        ) from exc


def _chunks(stream: Any) -> Iterator[bytes]:
    read: Callable[[int], bytes] = stream.read
    while chunk := read(_ZIP_CHUNK):
        yield chunk
