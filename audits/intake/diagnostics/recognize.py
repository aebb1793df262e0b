"""Which kind of diagnostics file an upload is, judged by its bytes (light: no pandas).

A file that is none of them gets the reason, worded for what it looks like: a table whose
header lacks the columns we read is told which columns were expected and which were found.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Any

from audits.intake.diagnostics.archives import is_zip, zip_names
from audits.intake.diagnostics.common import (
    BOM,
    FORMATS_HELP,
    KIND_HELM,
    KIND_INSPECT,
    KIND_LIGHTEVAL,
    KIND_LM_EVAL,
    KIND_TABLE,
    KIND_WIDE_TABLE,
    binary_error,
    decode_text,
    load_json,
)
from audits.intake.types import IntakeError

SUMMARY_COLUMNS = ("metric", "value", "ci_low", "ci_high", "n", "suite", "notes", "supersedes")
PER_SAMPLE_COLUMNS = ("metric", "sample_id", "value", "suite", "notes", "supersedes")
# Columns that say which run a row of a wide table is (one of them marks a wide table).
WIDE_ROW_COLUMNS = frozenset(
    {"task", "benchmark", "dataset", "eval", "model", "model_name", "checkpoint", "step"}
)

_LM_EVAL_V04_KEYS = ("configs", "n-samples", "higher_is_better", "group_subtasks", "n-shot")
_HEADER_NAME = re.compile(r"[A-Za-z0-9_][\w .:/|@()+%-]{0,99}")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_HEAD_BYTES = 65536


@dataclass
class Sniffed:
    kind: str | None
    document: Any = None  # the parsed JSON, when the file is JSON
    problem: IntakeError | None = None  # why it is not a diagnostics file, when known
    header: list[str] = field(default_factory=list)  # a text table's column names
    delimiter: str = ","


def detect(source: str, content: bytes) -> str | None:
    """The kind of diagnostics file `content` is, judged by its bytes.

    Returns one of the diagnostics kinds ("diagnostics_table", "diagnostics_wide_table",
    "lm_eval", "lighteval", "helm", "inspect"), or None when it is not a diagnostics file.
    `source` (the uploaded file name) only breaks ties: a `.eval` upload is taken as an
    Inspect log even when it turns out not to be a zip, so the import can say so.
    """
    return sniff(source, content).kind


def sniff(source: str, content: bytes) -> Sniffed:
    is_eval_name = source.lower().endswith(".eval")
    if is_zip(content):
        names = zip_names(content)
        if is_eval_name or "header.json" in names or "_journal/start.json" in names:
            return Sniffed(KIND_INSPECT)
        if any(name.rsplit("/", 1)[-1] == "stats.json" for name in names):
            return Sniffed(KIND_HELM)
        return Sniffed(
            None,
            problem=IntakeError(
                "a zip archive that is neither an Inspect .eval log nor a HELM run directory "
                f"(run_spec.json and stats.json); {FORMATS_HELP}",
                file=source,
            ),
        )
    if is_eval_name:
        return Sniffed(KIND_INSPECT)  # the import reports that it is not a zip
    head = content[:_HEAD_BYTES]
    if b"\x00" in head:
        return Sniffed(None, problem=binary_error(source, content))
    head_text = head.decode("utf-8", errors="replace").lstrip(BOM)
    if head_text.lstrip().startswith(("{", "[")):
        try:
            document = load_json(source, decode_text(source, content))
        except IntakeError as exc:
            return Sniffed(None, problem=exc)
        return _sniff_json(source, document)
    return _sniff_text(source, head_text)


def delimiter_of(source: str, first_line: str) -> str:
    lowered = source.lower()
    if lowered.endswith((".tsv", ".tab")):
        return "\t"
    if lowered.endswith(".csv"):
        return ","
    return "\t" if "\t" in first_line else ","


def header_names(first_line: str, delimiter: str) -> list[str]:
    """The header's column names, stripped and lower-cased (how columns are matched)."""
    try:
        row = next(csv.reader([first_line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [name.strip().lower() for name in row]


def _sniff_text(source: str, head_text: str) -> Sniffed:
    lines = head_text.split("\n")
    first_line = lines[0]
    delimiter = delimiter_of(source, first_line)
    names = header_names(first_line, delimiter)
    if {"metric", "value"} <= set(names):
        return Sniffed(KIND_TABLE, header=names, delimiter=delimiter)
    looks_like_header = (
        len(names) >= 2
        and delimiter in first_line
        and all(_HEADER_NAME.fullmatch(name) for name in names)
    )
    if looks_like_header and _is_wide(names, lines[1:], delimiter):
        return Sniffed(KIND_WIDE_TABLE, header=names, delimiter=delimiter)
    if looks_like_header:
        return Sniffed(
            None,
            problem=IntakeError(
                f"a table whose header has the columns {', '.join(names)}: a diagnostics "
                "table needs either 'metric' and 'value' columns (one row per metric, or per "
                "sample with a 'sample_id' column), or one row per run with a 'task', "
                "'benchmark' or 'model' column and one column of numbers per metric (e.g. "
                "task,fewshot,acc,acc_stderr)",
                file=source,
                line=1,
            ),
        )
    return Sniffed(
        None,
        problem=IntakeError(
            "not a diagnostics table: line 1 must be a header naming the columns (found "
            f"{first_line[:80]!r}); {FORMATS_HELP}",
            file=source,
            line=1,
        ),
    )


def _is_wide(names: list[str], rest: list[str], delimiter: str) -> bool:
    """A wide table names its runs in a known column and has a row with a number in it."""
    if not WIDE_ROW_COLUMNS & set(names) and not any(n.endswith("_stderr") for n in names):
        return False
    row = next((line for line in rest if line.strip()), None)
    if row is None:
        return True  # a header without rows: the import says so
    try:
        cells = next(csv.reader([row.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return False
    return any(_NUMBER.fullmatch(cell) for cell in cells)  # ragged rows: the import says


def _sniff_json(source: str, document: Any) -> Sniffed:
    if isinstance(document, dict):
        if _is_lighteval(document):
            return Sniffed(KIND_LIGHTEVAL, document)
        if _is_lm_eval(document):
            return Sniffed(KIND_LM_EVAL, document)
        if _is_inspect_log(document):
            return Sniffed(KIND_INSPECT, document)
        if _is_helm_run_spec(document):
            return Sniffed(KIND_HELM, document)
        return Sniffed(
            None,
            problem=IntakeError(
                "a JSON object that is none of lm-evaluation-harness results (top-level "
                "'results' of task -> metrics with 'versions'/'config' or 'configs'/'n-samples'), "
                "lighteval results ('config_general' and 'results'), or an Inspect log "
                f"('version', 'eval', 'results'); {FORMATS_HELP}",
                file=source,
            ),
        )
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, dict) and {"metric", "value"} <= {
            str(k).strip().lower() for k in first
        }:
            return Sniffed(KIND_TABLE, document)
        if _is_helm_stats(document):
            return Sniffed(KIND_HELM, document)
        return Sniffed(
            None,
            problem=IntakeError(
                "a JSON list that is not a list of records with 'metric' and 'value' keys "
                f"(its first item is {_describe(first)}); {FORMATS_HELP}",
                file=source,
                field="[0]",
            ),
        )
    return Sniffed(
        None, problem=IntakeError(f"not a diagnostics file: {FORMATS_HELP}", file=source)
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


def _is_lighteval(document: dict[str, Any]) -> bool:
    return isinstance(document.get("config_general"), dict) and isinstance(
        document.get("results"), dict
    )


def _is_inspect_log(document: dict[str, Any]) -> bool:
    return (
        "version" in document
        and isinstance(document.get("eval"), dict)
        and ("results" in document or "status" in document)
    )


def _is_helm_run_spec(document: dict[str, Any]) -> bool:
    return isinstance(document.get("adapter_spec"), dict) and isinstance(
        document.get("scenario_spec"), dict
    )


def _is_helm_stats(document: list[Any]) -> bool:
    first = document[0] if document else None
    return (
        isinstance(first, dict)
        and isinstance(first.get("name"), dict)
        and "name" in first["name"]
        and "count" in first
    )
