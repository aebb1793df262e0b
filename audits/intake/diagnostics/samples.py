"""Per-sample tables: the rows of each metric aggregated into one diagnostic.

`value` is the mean, `n` the number of samples, and the 95% interval is Wilson's for 0/1
samples and Student's t otherwise (`intervals.aggregate_samples_estimate`). Every check is
vectorized over the rows; a Python loop runs once per metric, never per row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.intake.aliases import TABLE_NAMESPACE, Aliases
from audits.intake.catalogue import CATALOGUE, UNIT_RANGES
from audits.intake.diagnostics import common
from audits.intake.diagnostics.common import Budget, Found, join_notes, resolve
from audits.intake.diagnostics.intervals import aggregate_samples_estimate
from audits.intake.diagnostics.tables import Table, text_cells
from audits.intake.types import Diagnostic

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # spreads the metric code over the hash bits


def aggregate(table: Table, aliases: Aliases, budget: Budget) -> list[Found]:
    """One diagnostic per metric of a per-sample table (see the module docstring)."""
    frame = table.frame
    # One cast for every bincount and index below (each would otherwise cast again).
    codes = frame["metric"].cat.codes.to_numpy().astype(np.intp)
    names = [str(name) for name in frame["metric"].cat.categories]
    _check_sample_ids(table, codes)
    budget.check("checking sample ids")
    order, first_rows = _metrics_in_file_order(codes)
    if len(order) > common.MAX_DISTINCT_METRICS:
        raise table.error(
            int(first_rows[common.MAX_DISTINCT_METRICS]),
            "metric",
            f"the table has more than {common.MAX_DISTINCT_METRICS:,} metrics; a filing's "
            "diagnostics are summaries, so split the file",
        )
    values = frame["value"].to_numpy(dtype="float64")
    summary = _per_metric(codes, values, len(names))
    # Aliases are resolved per metric first: per-sample values must fall in the catalogue
    # unit's range too, and the row that breaks it is the one to name.
    resolved = {
        code: resolve(aliases, TABLE_NAMESPACE, names[code], shown=names[code]) for code in order
    }
    _check_ranges(table, codes, values, summary, resolved)
    budget.check("aggregating the samples")
    shared = {
        column: _constant_per_metric(table, codes, column)
        for column in ("suite", "notes", "supersedes")
        if column in frame.columns
    }
    found: list[Found] = []
    for code, row in zip(order, first_rows, strict=True):
        estimate = aggregate_samples_estimate(
            count=int(summary.count[code]),
            mean=float(summary.mean[code]),
            std=float(summary.std[code]),
            minimum=float(summary.minimum[code]),
            maximum=float(summary.maximum[code]),
            binary=not summary.nonbinary[code],
        )
        metric, note = resolved[code]
        diagnostic = Diagnostic(
            metric=metric,
            value=estimate.mean,
            location=table.where(int(row), "metric"),
            ci_low=estimate.ci_low,
            ci_high=estimate.ci_high,
            n=estimate.count,
            suite=shared.get("suite", {}).get(code),
            notes=join_notes(note, shared.get("notes", {}).get(code)),
            method=estimate.method,
            supersedes=shared.get("supersedes", {}).get(code),
        )
        found.append(
            Found(
                diagnostic,
                None,
                names[code],
                computed_interval=True,
                column_at=functools.partial(table.where, int(row)),
            )
        )
    return found


@dataclass(frozen=True)
class _PerMetric:
    """Per metric code: sample count, mean, standard deviation (ddof 1), min, max, and
    whether any value is neither 0 nor 1."""

    count: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    nonbinary: np.ndarray


def _per_metric(codes: np.ndarray, values: np.ndarray, metrics: int) -> _PerMetric:
    counts = np.bincount(codes, minlength=metrics)
    present = np.maximum(counts, 1)
    mean = np.bincount(codes, weights=values, minlength=metrics) / present
    # Two passes (deviations from the mean) keep the variance exact for large values.
    deviations = values - mean[codes]
    squares = np.bincount(codes, weights=deviations * deviations, minlength=metrics)
    std = np.sqrt(squares / np.maximum(counts - 1, 1))
    extremes = pd.Series(values).groupby(codes, sort=True).agg(["min", "max"])
    minimum = np.full(metrics, np.nan)
    maximum = np.full(metrics, np.nan)
    minimum[extremes.index] = extremes["min"].to_numpy()
    maximum[extremes.index] = extremes["max"].to_numpy()
    odd = (values != 0.0) & (values != 1.0)
    nonbinary = np.bincount(codes, weights=odd, minlength=metrics) > 0
    return _PerMetric(counts, mean, std, minimum, maximum, nonbinary)


def _metrics_in_file_order(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The metric codes in the order they first appear, and the row of each first one."""
    # A hash pass (drop_duplicates keeps first occurrences in file order), not a sort.
    firsts = pd.Series(codes).drop_duplicates()
    return firsts.to_numpy(), firsts.index.to_numpy()


def _check_sample_ids(table: Table, codes: np.ndarray) -> None:
    """Refuse empty sample ids and a sample given twice for one metric."""
    ids = table.frame["sample_id"].to_numpy(dtype=object)
    blank = ids == ""
    if not blank.any() and table.rows is not None and b"\t" in table.rows.body:
        blank = text_cells(table, "sample_id").eq("").to_numpy()
    if blank.any():
        raise table.error(
            int(np.flatnonzero(blank)[0]), "sample_id", "sample_id is empty; name the sample"
        )
    row = _first_repeated_sample(table, ids, codes)
    if row is None:
        return
    metric, sample = str(table.frame["metric"].iat[row]), ids[row]
    first = int(np.flatnonzero((codes == codes[row]) & (ids == sample))[0])
    raise table.error(
        row,
        "sample_id",
        f"sample {sample!r} of metric {metric} appears twice (first at {table.where(first)}); "
        "give each sample (and epoch) its own sample_id",
    )


def _first_repeated_sample(table: Table, ids: np.ndarray, codes: np.ndarray) -> int | None:
    """The first row whose (metric, sample_id) an earlier row has, or None.

    A 64-bit hash per row (Python's own string hash, no copy of the ids), sorted to find
    equal neighbours; only when two hashes meet are the rows compared exactly, so a hash
    collision cannot refuse a good file.
    """
    hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)).view(np.uint64)
    hashes ^= codes.astype(np.uint64) * _GOLDEN
    hashes.sort()
    if not (hashes[1:] == hashes[:-1]).any():
        return None
    repeated = table.frame.duplicated(subset=["metric", "sample_id"]).to_numpy()
    return int(np.flatnonzero(repeated)[0]) if repeated.any() else None


def _check_ranges(
    table: Table,
    codes: np.ndarray,
    values: np.ndarray,
    summary: _PerMetric,
    resolved: dict[int, tuple[str, str | None]],
) -> None:
    for code, (metric, note) in resolved.items():
        entry = CATALOGUE.get(metric)
        if entry is None:
            continue
        low, high = UNIT_RANGES[entry.unit]
        if low <= summary.minimum[code] and summary.maximum[code] <= high:
            continue
        outside = (codes == code) & ~((values >= low) & (values <= high))
        row = int(np.flatnonzero(outside)[0])
        unit = entry.unit.replace("_", " ")
        raise table.error(
            row,
            "value",
            f"value {values[row]:g} is out of range for {metric} (unit: {unit}, "
            f"allowed [{low:g}, {high:g}])" + (f" ({note})" if note else ""),
        )


def _constant_per_metric(table: Table, codes: np.ndarray, column: str) -> dict[int, str]:
    """The one non-empty `column` text of each metric; two different ones are an error."""
    text = text_cells(table, column)
    present = text.ne("").to_numpy()
    if not present.any():
        return {}
    pairs = pd.DataFrame({"metric": codes[present], column: text[present].to_numpy()})
    pairs.index = np.flatnonzero(present)
    distinct = pairs.drop_duplicates()
    counts = distinct["metric"].value_counts()
    conflicting = counts[counts > 1]
    if not conflicting.empty:
        code = conflicting.index[0]
        rows = distinct[distinct["metric"] == code]
        first_row, first_value = int(rows.index[0]), rows[column].iloc[0]
        other_row, other_value = int(rows.index[1]), rows[column].iloc[1]
        metric = table.frame["metric"].cat.categories[code]
        raise table.error(
            other_row,
            column,
            f"{column} differs within metric {metric}: {other_value!r} here and "
            f"{first_value!r} at {table.where(first_row)}; one {column} per metric",
        )
    firsts = distinct.drop_duplicates("metric")
    return dict(zip(firsts["metric"].tolist(), firsts[column].tolist(), strict=True))
