"""Long diagnostics tables: CSV/TSV text or a JSON list of records, with one row per metric
(a summary table) or one row per sample (a per-sample table, with `sample_id`; its rows are
aggregated in `samples.py`).

A text table is read by one pass of pandas' C parser. Where a row starts (its line) is
worked out only when a message or a diagnostic's location needs it, by a csv pass that
stops at that row (`RowLines`), so a clean million-row file costs about what pandas alone
costs; every refusal still names the line and the column.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audits.intake.aliases import TABLE_NAMESPACE
from audits.intake.diagnostics import common
from audits.intake.diagnostics.common import BOM, Budget, Found, decode_text
from audits.intake.diagnostics.recognize import PER_SAMPLE_COLUMNS, SUMMARY_COLUMNS
from audits.intake.types import Diagnostic, IntakeError, Location

NUMERIC_COLUMNS = ("value", "ci_low", "ci_high", "n")
TEXT_COLUMNS = ("metric", "sample_id", "suite", "notes", "supersedes")


class RowLines:
    """The line each data row of a text table starts on (header = line 1), and its cells.

    A csv pass over the file goes only as far as the rows asked for; rows with a different
    number of fields than the header are refused on the way, with their line.
    """

    def __init__(self, source: str, body: bytes, delimiter: str, names: list[str]) -> None:
        self.source, self.body, self.delimiter, self.names = source, body, delimiter, names
        self._starts = array("l")
        self._cells: dict[int, list[str]] = {}
        self._rows: Iterator[tuple[int, list[str]]] = self._scan()

    def line(self, row: int) -> int:
        self._advance(row)
        return int(self._starts[row])

    def cells(self, row: int) -> list[str]:
        """The cells of data row `row` as the file has them (text, not stripped)."""
        if row not in self._cells:
            self._cells[row] = next(cells for index, cells in self._scan() if index == row)
        return self._cells[row]

    def check_all(self) -> int:
        """Read every row (refusing ragged ones); return how many data rows there are."""
        for _ in self._rows:
            pass
        return len(self._starts)

    def _advance(self, row: int) -> None:
        while len(self._starts) <= row:
            if next(self._rows, None) is None:
                raise IndexError(row)

    def _scan(self) -> Iterator[tuple[int, list[str]]]:
        """(row index, cells) of each data row; records each row's first line once."""
        text = io.TextIOWrapper(io.BytesIO(self.body), encoding="utf-8", newline="")
        reader = csv.reader(text, delimiter=self.delimiter, skipinitialspace=True)
        expected = len(self.names)
        index = 0
        previous = 0
        try:
            next(reader, None)  # the header, checked already
            previous = reader.line_num
            for row in reader:
                start = previous + 1
                previous = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line; pandas skips it too
                if len(row) != expected:
                    raise self._ragged(start, len(row))
                if index == len(self._starts):
                    self._starts.append(start)
                yield index, row
                index += 1
        except csv.Error as exc:
            raise IntakeError(
                f"the table cannot be read near line {previous + 1}: {exc}",
                file=self.source,
                line=previous + 1,
            ) from exc
        except UnicodeDecodeError:
            decode_text(self.source, self.body)  # raises the located error
            raise

    def _ragged(self, line: int, fields: int) -> IntakeError:
        separator = "a tab" if self.delimiter == "\t" else "a comma"
        return IntakeError(
            f"line {line} has {fields} field{'s' if fields != 1 else ''} but the header has "
            f"{len(self.names)} ({', '.join(self.names)}); quote fields that contain "
            f"{separator}, and give every row every column (empty is allowed for optional "
            "ones)",
            file=self.source,
            line=line,
        )


@dataclass
class Table:
    """A diagnostics table with normalized column names, and where each row came from."""

    source: str
    frame: pd.DataFrame
    rows: RowLines | None  # text tables; None for JSON records (located by field path)

    def where(self, row: int, column: str | None = None) -> Location:
        if self.rows is not None:
            return Location(self.source, line=self.rows.line(row), field=column)
        return Location(self.source, field=f"[{row}].{column}" if column else f"[{row}]")

    def error(self, row: int, column: str | None, message: str) -> IntakeError:
        return IntakeError(message, **self.where(row, column).as_dict())

    def raw(self, row: int, column: str) -> str:
        """The cell as the file has it (for messages about values that are not numbers)."""
        if self.rows is not None:
            return self.rows.cells(row)[self.rows.names.index(column)]
        return str(self.frame[column].iloc[row])


def check_unique_columns(source: str, names: list[str], *, line: int | None) -> None:
    """Refuse a column named twice (names are compared as normalized: case, spaces)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IntakeError(
                f"column {name!r} appears twice in the header; keep one",
                file=source,
                line=line,
                field=name,
            )
        seen.add(name)


def check_columns(source: str, names: list[str], *, line: int | None) -> None:
    """Refuse repeated, unknown or missing columns, naming the column."""
    check_unique_columns(source, names, line=line)
    where = {"line": line} if line is not None else {}
    seen = set(names)
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


def read_csv_bytes(
    source: str, body: bytes, *, delimiter: str, names: list[str], dtype: dict[str, Any]
) -> pd.DataFrame:
    """One pass of pandas' C parser over a table's bytes (header included).

    Columns not in `dtype` are inferred (numbers come out as floats when every cell is one).
    Empty cells of numeric columns are NaN; text stays text, "NaN" and "NA" included.
    """
    try:
        return pd.read_csv(
            io.BytesIO(body),
            sep=delimiter,
            header=0,
            names=names,  # the normalized names, so dtypes and checks use them
            dtype=dtype,
            keep_default_na=False,
            na_values={name: [""] for name in names if name not in dtype},
            skip_blank_lines=True,
            skipinitialspace=True,  # " s1" is s1, and a cell of spaces is empty
            engine="c",
            encoding="utf-8",
        )
    except UnicodeDecodeError:
        decode_text(source, body)  # raises the located error
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        # Too many fields on a row: the csv pass names the line.
        RowLines(source, body, delimiter, names).check_all()
        raise IntakeError(f"the table cannot be read: {exc}", file=source) from exc


def text_table(source: str, content: bytes, header: list[str], delimiter: str) -> Table:
    """Read a long text table (summary or per-sample) into a Table with float columns."""
    if b"\x00" in content:
        raise common.binary_error(source, content)
    check_columns(source, header, line=1)
    body = content[3:] if content.startswith(BOM.encode()) else content
    # Only `value` is left to the parser's number inference (the fast path for big tables);
    # the optional numbers are read as text, so an empty cell and "NaN" stay apart.
    dtypes: dict[str, Any] = {name: object for name in header if name != "value"}
    # Categorical keeps one copy of each metric name instead of one per row.
    dtypes["metric"] = "category"
    frame = read_csv_bytes(source, body, delimiter=delimiter, names=header, dtype=dtypes)
    if len(frame) > common.MAX_TABLE_ROWS:
        raise IntakeError(
            f"the table has more than {common.MAX_TABLE_ROWS:,} rows; split it into several files",
            file=source,
        )
    rows = RowLines(source, body, delimiter, header)
    if not _short_rows_are_refused_anyway(header) and not _every_row_complete(
        body, delimiter, len(header), len(frame)
    ):
        rows.check_all()  # names the ragged line; pandas fills short rows silently
    return Table(source, frame, rows)


def _every_row_complete(body: bytes, delimiter: str, columns: int, rows: int) -> bool:
    """True when no row can be short: without quotes, every row then has exactly
    `columns - 1` delimiters (pandas already refused rows with too many)."""
    if b'"' in body:
        return False
    return body.count(delimiter.encode()) == (rows + 1) * (columns - 1)


def _short_rows_are_refused_anyway(header: list[str]) -> bool:
    """A per-sample table of only its required columns: a short row leaves a required cell
    empty, which is refused, and finding that row's line names it as ragged."""
    return set(header) == {"metric", "sample_id", "value"}


def records_table(source: str, records: list[Any]) -> Table:
    """A JSON list of records as a Table; values are type-checked while read."""
    if len(records) > common.MAX_TABLE_ROWS:
        raise IntakeError(
            f"the list has more than {common.MAX_TABLE_ROWS:,} records; split it into "
            "several files",
            file=source,
            field=f"[{common.MAX_TABLE_ROWS}]",
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
    check_columns(source, names, line=None)
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
            if name in NUMERIC_COLUMNS:
                columns[name].append(_record_number(source, field, name, value))
            else:
                columns[name].append(_record_text(source, field, name, value))
    frame = pd.DataFrame(
        {
            name: (
                np.asarray(values, dtype="float64")
                if name in NUMERIC_COLUMNS
                else pd.Series(values, dtype=object)
            )
            for name, values in columns.items()
        }
    )
    frame["metric"] = frame["metric"].astype("category")
    return Table(source, frame, None)


def _record_number(source: str, field: str, name: str, value: Any) -> float:
    if value is None:
        if name == "value":
            raise IntakeError("value is missing; give a number", file=source, field=field)
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IntakeError(
            f"{name} must be a JSON number, got {common.shown(value)}",
            file=source,
            field=field,
        )
    converted = float(value)
    if math.isnan(converted):
        raise IntakeError(
            f"{name} is NaN; give a number, or leave the metric out if it was not measured",
            file=source,
            field=field,
        )
    if math.isinf(converted):
        raise IntakeError(f"{name} is infinite; give a finite number", file=source, field=field)
    return converted


def _record_text(source: str, field: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "sample_id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise IntakeError(
            f"{name} must be text, got {common.shown(value)}", file=source, field=field
        )
    return value.strip()


def numeric_column(table: Table, column: str, *, required: bool) -> np.ndarray:
    """The column as floats; name the first row that is not a finite number.

    The parser already made floats of clean columns, so only a column with a problem
    (text, NaN, infinity, or an empty required cell) is looked at cell by cell.
    """
    series = table.frame[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        numbers = pd.to_numeric(series.astype(str), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    bad = ~np.isfinite(numbers)
    if not required:  # an empty optional cell is "not given", not an error
        bad &= ~_empty_cells(table, column, bad)
    if not bad.any():
        return numbers
    row = int(np.flatnonzero(bad)[0])
    text = table.raw(row, column).strip()
    word = text.lower().lstrip("+-")
    if not text:
        message = f"{column} is empty; give a number"
    elif word == "nan":
        message = f"{column} is NaN; give a number, or leave the metric out if it was not measured"
    elif word in ("inf", "infinity"):
        message = f"{column} is infinite ({text!r}); give a finite number"
    elif _is_overflow(text):
        message = f"{column} {text!r} is too large (it overflows to infinity)"
    else:
        message = f"{column} {text[:40]!r} is not a number"
    raise table.error(row, column, message)


def _empty_cells(table: Table, column: str, candidates: np.ndarray) -> np.ndarray:
    """Which of the `candidates` rows hold an empty cell in `column` (a text column)."""
    return candidates & table.frame[column].astype(str).str.strip().eq("").to_numpy()


def _is_overflow(text: str) -> bool:
    try:
        return math.isinf(float(text))
    except ValueError:
        return False


def check_numbers(table: Table, *, per_sample: bool, budget: Budget) -> None:
    """Turn numeric columns into floats and check them row by row, vectorized."""
    frame = table.frame
    if table.rows is not None:  # text: parse here; JSON records were checked while read
        for column in NUMERIC_COLUMNS:
            if column in frame.columns:
                frame[column] = numeric_column(table, column, required=column == "value")
    budget.check("checking the numbers")
    metric = frame["metric"]
    categories = metric.cat.categories
    # pandas infers numeric categories from names like "0"; names are text, and stripped.
    if not pd.api.types.is_string_dtype(categories.dtype) or (
        categories.str.strip().tolist() != categories.tolist()
    ):
        frame["metric"] = metric.astype(str).str.strip().astype("category")
        metric = frame["metric"]
    if "" in set(metric.cat.categories):
        blank = (metric.cat.codes == metric.cat.categories.get_loc("")).to_numpy()
        row = int(np.flatnonzero(blank)[0])
        raise table.error(row, "metric", "metric is empty; name the metric")
    if per_sample:
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
    _check_intervals(table)


def _check_intervals(table: Table) -> None:
    frame = table.frame
    has_low, has_high = "ci_low" in frame.columns, "ci_high" in frame.columns
    if not (has_low or has_high):
        return
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


def text_cells(table: Table, column: str) -> pd.Series:
    """A text column stripped, computed once per distinct value (rows repeat values)."""
    codes, uniques = pd.factorize(table.frame[column].astype(object), use_na_sentinel=False)
    stripped = np.array([str(value).strip() for value in uniques], dtype=object)
    return pd.Series(stripped[codes], index=table.frame.index)


def summary_rows(table: Table, budget: Budget) -> list[Found]:
    """One diagnostic per row of a summary table, after the bounds on rows are checked."""
    frame = table.frame
    _check_summary_bounds(table)
    if table.rows is not None:
        table.rows.check_all()  # a summary table is small now: name any ragged line
    budget.check("reading the rows")
    found: list[Found] = []
    columns = list(frame.columns)
    texts = {
        column: text_cells(table, column)
        for column in ("suite", "notes", "supersedes")
        if column in frame.columns
    }
    for row, values in enumerate(frame.itertuples(index=False, name=None)):
        record = dict(zip(columns, values, strict=True))
        name = str(record["metric"])
        optional = {
            key: (None if math.isnan(record[key]) else record[key])
            for key in ("ci_low", "ci_high", "n")
            if key in record
        }
        n = optional.get("n")
        text = {column: cells.iat[row] or None for column, cells in texts.items()}
        diagnostic = Diagnostic(
            metric=name,
            value=float(record["value"]),
            location=table.where(row, "metric"),
            ci_low=optional.get("ci_low"),
            ci_high=optional.get("ci_high"),
            n=int(n) if n is not None else None,
            suite=text.get("suite"),
            notes=text.get("notes"),
            supersedes=text.get("supersedes"),
        )
        found.append(
            Found(diagnostic, TABLE_NAMESPACE, name, column_at=functools.partial(table.where, row))
        )
    return found


def _check_summary_bounds(table: Table) -> None:
    """A summary table has one row per metric: refuse runaway repeats before reading rows."""
    frame = table.frame
    if len(frame) <= common.MAX_DISTINCT_METRICS:
        return
    repeated = frame.duplicated().to_numpy()
    if int(repeated.sum()) > common.MAX_DUPLICATE_ROWS:
        row = int(np.flatnonzero(repeated)[common.MAX_DUPLICATE_ROWS])
        raise table.error(
            row,
            None,
            f"more than {common.MAX_DUPLICATE_ROWS:,} rows repeat an earlier row (this is "
            f"one of {int(repeated.sum()):,}); a summary table has one row per metric: "
            "remove the repeats, or give per-sample rows a sample_id column",
        )
    distinct = np.flatnonzero(~repeated)
    if len(distinct) > common.MAX_DISTINCT_METRICS:
        raise table.error(
            int(distinct[common.MAX_DISTINCT_METRICS]),
            "metric",
            f"the table has more than {common.MAX_DISTINCT_METRICS:,} rows with different "
            "metrics; a filing's diagnostics are summaries, so split the file or aggregate it",
        )
