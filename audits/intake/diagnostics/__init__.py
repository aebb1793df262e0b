"""Diagnostic-file importers, one module per format:

    recognize.py     which kind of file an upload is (light: no pandas)
    tables.py        long CSV/TSV tables and JSON records (summary and per-sample)
    samples.py       per-sample statistics: rows aggregated into one diagnostic per metric
    wide.py          wide CSV/TSV tables: one row per task or run, one column per metric
    lm_eval.py       lm-evaluation-harness results (v0.3, v0.4)
    lighteval.py     lighteval / Open LLM Leaderboard results
    helm.py          zipped HELM run directories
    inspect_log.py   Inspect logs (.json, .eval)
    archives.py      zip archives read within limits (zip-bomb guards)
    intervals.py     95% intervals (stderr, Wilson, Student t)
    common.py        kinds, limits, and the final pass every reader's results go through

Every reported metric becomes a `Diagnostic` whose location names the file and the line or
field it came from. Names follow the source (`lm_eval.<task>.<metric>@<k>shot`,
`inspect.<task>.<score>.<metric>`, a table's `metric` column...); the alias file maps the
ones that measure a catalogue metric to its id, and catalogue values are range-checked.

Pure Python (pandas, scipy): nothing here imports Django.
"""

from __future__ import annotations

from audits.intake.aliases import Aliases, default_aliases
from audits.intake.diagnostics.common import (
    FORMATS_HELP,
    KIND_HELM,
    KIND_INSPECT,
    KIND_LIGHTEVAL,
    KIND_LM_EVAL,
    KIND_TABLE,
    KIND_WIDE_TABLE,
    KINDS,
    RUN_KINDS,
    Budget,
    Found,
    finish,
)
from audits.intake.diagnostics.intervals import (
    STDERR_METHOD,
    Z_95,
    SampleEstimate,
    aggregate_samples_estimate,
    wilson_interval,
)
from audits.intake.diagnostics.recognize import Sniffed, detect, sniff
from audits.intake.types import Imported, IntakeError, refuse_nul

__all__ = [
    "KINDS",
    "KIND_HELM",
    "KIND_INSPECT",
    "KIND_LIGHTEVAL",
    "KIND_LM_EVAL",
    "KIND_TABLE",
    "KIND_WIDE_TABLE",
    "RUN_KINDS",
    "STDERR_METHOD",
    "Z_95",
    "SampleEstimate",
    "aggregate_samples_estimate",
    "detect",
    "import_diagnostics",
    "wilson_interval",
]


def import_diagnostics(source: str, content: bytes, *, aliases: Aliases | None = None) -> Imported:
    """Import one diagnostics file into diagnostics with provenance and warnings.

    `aliases` defaults to the shipped alias file; pass `Aliases.load().extended(...)` to add
    an admin's rows. Raises IntakeError (naming the file and the line or field) when the file
    cannot be accepted, including when it would take more than the limits in `common`
    (rows, repeated rows, distinct metrics, processing time).
    """
    aliases = aliases if aliases is not None else default_aliases()
    budget = Budget(source)
    sniffed = sniff(source, content)
    if sniffed.kind is None:
        raise sniffed.problem or IntakeError(f"not a diagnostics file: {FORMATS_HELP}", file=source)
    imported = Imported(source=source, kind=sniffed.kind)
    found = _read(imported, content, sniffed, aliases, budget)
    finish(imported, found, aliases, budget)
    refuse_nul(imported)
    return imported


def _read(
    imported: Imported, content: bytes, sniffed: Sniffed, aliases: Aliases, budget: Budget
) -> list[Found]:
    # Each reader is imported when its format arrives: pandas and scipy cost a third of a
    # second at start-up, which a command reading a model card should not pay.
    kind, document = sniffed.kind, sniffed.document
    if kind == KIND_TABLE:
        from audits.intake.diagnostics import samples, tables

        if document is not None:
            table = tables.records_table(imported.source, document)
        else:
            table = tables.text_table(imported.source, content, sniffed.header, sniffed.delimiter)
        if table.frame.empty:
            raise IntakeError(
                "the table has a header but no rows; add one row per metric (or per sample)",
                file=imported.source,
                line=2 if table.rows is not None else None,
            )
        per_sample = "sample_id" in table.frame.columns
        tables.check_numbers(table, per_sample=per_sample, budget=budget)
        if per_sample:
            return samples.aggregate(table, aliases, budget)
        return tables.summary_rows(table, budget)
    if kind == KIND_WIDE_TABLE:
        from audits.intake.diagnostics.wide import import_wide

        return import_wide(imported, content, sniffed.header, sniffed.delimiter, budget)
    if kind == KIND_LM_EVAL:
        from audits.intake.diagnostics.lm_eval import import_lm_eval

        return import_lm_eval(imported, document, budget)
    if kind == KIND_LIGHTEVAL:
        from audits.intake.diagnostics.lighteval import import_lighteval

        return import_lighteval(imported, document, budget)
    if kind == KIND_HELM:
        from audits.intake.diagnostics.helm import import_helm

        return import_helm(imported, content, document, budget)
    from audits.intake.diagnostics.inspect_log import import_inspect

    return import_inspect(imported, content, document, budget)
