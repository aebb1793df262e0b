"""Wide tables: one row per task, checkpoint or run, one column per metric.

    model,checkpoint,task,fewshot,acc,acc_stderr
    pythia-160m,step143000,arc_challenge,0,0.1877,0.0114

Columns are recognized by name (case-insensitive):
    task | benchmark | dataset | eval             the task; a metric is named <task>.<metric>
    fewshot | num_fewshot | n_shot | n-shot | shots   the few-shot count (`@<k>shot`)
    n | n_samples | samples | num_samples        the samples behind the row's values
    suite, notes                                 as in a summary table
    model | model_name                           the evaluated model
    <metric>_stderr                              the standard error of <metric> (an interval)
    <metric>_ci_low, <metric>_ci_high            a 95% interval of <metric>
Every other column of numbers is a metric. Any other column of text (checkpoint, step,
seed, split...) says which run a row is: when it has the same value on every row it goes
to the notes (the model is then offered as `model.name`); when it varies it becomes part
of each metric's name, `arc_challenge.acc@0shot[checkpoint=step143000]`, so two runs never
collide. Empty cells and "N/A" are "not measured" (skipped with a warning for N/A).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import pandas as pd

from audits.intake.aliases import TABLE_NAMESPACE
from audits.intake.diagnostics import common
from audits.intake.diagnostics.common import (
    BOM,
    Budget,
    Found,
    join_notes,
    offer_model,
    with_shots,
)
from audits.intake.diagnostics.intervals import stderr_interval
from audits.intake.diagnostics.tables import RowLines, check_unique_columns, read_csv_bytes
from audits.intake.types import Diagnostic, Imported, IntakeError, Location

TASK_COLUMNS = ("task", "benchmark", "dataset", "eval")
SHOT_COLUMNS = ("fewshot", "num_fewshot", "n_shot", "n-shot", "shots", "num_shots", "few_shot")
COUNT_COLUMNS = ("n", "n_samples", "samples", "num_samples")
MODEL_COLUMNS = ("model", "model_name")
_NOT_MEASURED = frozenset({"n/a", "na", "nan", "-", "none", "null"})
_SPACES = re.compile(r"\s+")


def import_wide(
    imported: Imported, content: bytes, header: list[str], delimiter: str, budget: Budget
) -> list[Found]:
    source = imported.source
    check_unique_columns(source, header, line=1)
    body = content[3:] if content.startswith(BOM.encode()) else content
    if body.count(b"\n") > common.MAX_DISTINCT_METRICS + 1:
        raise IntakeError(
            f"the table has more than {common.MAX_DISTINCT_METRICS:,} rows; a wide table has "
            "one row per task or run, so split the file",
            file=source,
            line=common.MAX_DISTINCT_METRICS + 2,
        )
    frame = read_csv_bytes(
        source, body, delimiter=delimiter, names=header, dtype=dict.fromkeys(header, object)
    ).fillna("")
    rows = RowLines(source, body, delimiter, header)
    rows.check_all()
    if frame.empty:
        raise IntakeError(
            "the table has a header but no rows; add one row per task or run",
            file=source,
            line=2,
        )
    cells = frame.map(lambda cell: str(cell).strip())
    roles = _roles(header, cells)
    if not roles.metrics:
        raise IntakeError(
            f"no column of numbers in a table with the columns {', '.join(header)}; a wide "
            "table needs one column per metric (e.g. acc, acc_stderr)",
            file=source,
            line=1,
        )
    budget.check("reading the rows")
    constant = {
        column: cells[column].iat[0]
        for column in roles.runs
        if cells[column].nunique() == 1 and cells[column].iat[0]
    }
    varying = [column for column in roles.runs if column not in constant]
    model = constant.get(roles.model) if roles.model else None
    if model:
        offer_model(imported, model, Location(source, line=2, field=roles.model))
    notes = join_notes(*(f"{column} {value}" for column, value in constant.items())) or None
    found: list[Found] = []
    for row in range(len(cells)):
        record = cells.iloc[row]
        where = functools.partial(_where, source, rows, row)
        qualifiers = [
            f"{column}={_SPACES.sub('_', record[column])}" for column in varying if record[column]
        ]
        stem = record[roles.task] + "." if roles.task and record[roles.task] else ""
        shots = _row_number(record, roles.shots, where, int_only=True)
        n = _row_number(record, roles.n, where, int_only=True)
        for metric in roles.metrics:
            diagnostic = _row_metric(imported, record, metric, roles, where, n=n)
            if diagnostic is None:
                continue
            name = with_shots(stem + metric, None if shots is None else int(shots))
            diagnostic.metric = name + (f"[{','.join(qualifiers)}]" if qualifiers else "")
            diagnostic.suite = record[roles.suite] or None if roles.suite else None
            diagnostic.notes = join_notes(notes, record[roles.notes] if roles.notes else None)
            diagnostic.model = model or (record[roles.model] if roles.model else None) or None
            found.append(
                Found(
                    diagnostic,
                    TABLE_NAMESPACE,
                    name,
                    computed_interval=diagnostic.method is not None,
                    column_at=functools.partial(_cell, where, metric),
                )
            )
    return found


class _Roles:
    """What each column of a wide table is."""

    def __init__(self) -> None:
        self.task: str | None = None
        self.shots: str | None = None
        self.n: str | None = None
        self.suite: str | None = None
        self.notes: str | None = None
        self.model: str | None = None
        self.metrics: list[str] = []
        self.stderr: dict[str, str] = {}
        self.interval: dict[str, tuple[str, str]] = {}
        self.runs: list[str] = []


def _roles(header: list[str], cells: pd.DataFrame) -> _Roles:
    roles = _Roles()
    named = {
        "task": TASK_COLUMNS,
        "shots": SHOT_COLUMNS,
        "n": COUNT_COLUMNS,
        "suite": ("suite",),
        "notes": ("notes",),
        "model": MODEL_COLUMNS,
    }
    taken: set[str] = set()
    for role, candidates in named.items():
        column = next((name for name in candidates if name in header), None)
        setattr(roles, role, column)
        if column is not None:
            taken.add(column)
    if roles.model:
        roles.runs.append(roles.model)
    numeric = [name for name in header if name not in taken and _is_numbers(cells[name])]
    for name in numeric:
        base, suffix = _split_suffix(name)
        if suffix == "_stderr" and base in numeric:
            roles.stderr[base] = name
        elif suffix in ("_ci_low", "_ci_high") and base in numeric:
            low, high = f"{base}_ci_low", f"{base}_ci_high"
            if low in numeric and high in numeric:
                roles.interval[base] = (low, high)
            else:
                roles.metrics.append(name)
        else:
            roles.metrics.append(name)
    roles.runs.extend(name for name in header if name not in taken and name not in numeric)
    return roles


def _split_suffix(name: str) -> tuple[str, str]:
    for suffix in ("_stderr", "_ci_low", "_ci_high"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def _is_numbers(column: pd.Series) -> bool:
    present = [cell for cell in column if cell and cell.lower() not in _NOT_MEASURED]
    return bool(present) and all(_float(cell) is not None for cell in present)


def _float(cell: str) -> float | None:
    try:
        number = float(cell)
    except ValueError:
        return None
    return number


def _where(source: str, rows: RowLines, row: int, column: str | None = None) -> Location:
    return Location(source, line=rows.line(row), field=column)


def _cell(where: Any, metric: str, column: str) -> Location:
    """Where a diagnostic's `value` (its metric column) or other part is."""
    return where(metric if column in ("value", "metric") else column)


def _row_number(
    record: pd.Series, column: str | None, where: Any, *, int_only: bool
) -> float | None:
    if column is None or not record[column]:
        return None
    number = _float(record[column])
    if number is None or not math.isfinite(number) or number < 0:
        raise IntakeError(
            f"{column} {record[column][:40]!r} is not a count; give a whole number of 0 or more",
            **where(column).as_dict(),
        )
    if int_only and number != int(number):
        raise IntakeError(
            f"{column} must be a whole number, got {record[column]!r}", **where(column).as_dict()
        )
    return number


def _row_metric(
    imported: Imported,
    record: pd.Series,
    metric: str,
    roles: _Roles,
    where: Any,
    *,
    n: float | None,
) -> Diagnostic | None:
    text = record[metric]
    if not text:
        return None
    if text.lower() in _NOT_MEASURED:
        imported.warn(
            f"{metric} is {text!r}, not a number; skipped", where(metric), kind="not_a_number"
        )
        return None
    value = float(text)
    if not math.isfinite(value):
        raise IntakeError(f"{metric} {text!r} is not a finite number", **where(metric).as_dict())
    diagnostic = Diagnostic(
        metric=metric, value=value, location=where(metric), n=int(n) if n is not None else None
    )
    stderr_column = roles.stderr.get(metric)
    stderr = _float(record[stderr_column]) if stderr_column and record[stderr_column] else None
    if stderr is not None and math.isfinite(stderr) and stderr >= 0:
        stderr_interval(diagnostic, stderr, name=metric)
    elif stderr_column and record[stderr_column]:
        imported.warn(
            f"{stderr_column} is {record[stderr_column][:40]!r}; the value is kept without an "
            "interval",
            where(stderr_column),
            kind="bad_stderr",
        )
    if metric in roles.interval:
        low_column, high_column = roles.interval[metric]
        low, high = _float(record[low_column] or "nan"), _float(record[high_column] or "nan")
        if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
            if not low <= value <= high:
                raise IntakeError(
                    f"the interval [{low:g}, {high:g}] does not contain the value {value:g}; "
                    f"{low_column} <= {metric} <= {high_column} must hold",
                    **where(low_column).as_dict(),
                )
            diagnostic.ci_low, diagnostic.ci_high, diagnostic.method = low, high, None
    return diagnostic
