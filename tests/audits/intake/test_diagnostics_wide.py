"""Wide diagnostics tables: one row per task or run, one column per metric."""

from __future__ import annotations

import pytest

from audits.intake import merge
from audits.intake.diagnostics import detect, import_diagnostics, wilson_interval
from audits.intake.diagnostics.intervals import Z_95
from tests.audits.intake.diagnostics_helpers import FORMATS, error_of


def test_checkpoints_of_one_model_stay_apart_and_the_model_is_offered() -> None:
    content = (FORMATS / "wide.csv").read_bytes()
    assert detect("wide.csv", content) == "diagnostics_wide_table"
    imported = import_diagnostics("wide.csv", content)
    assert imported.kind == "diagnostics_wide_table"
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert len(by_metric) == 9
    late = by_metric["arc_challenge.acc@0shot[checkpoint=step143000]"]
    assert late.value == 0.1877
    assert (late.location.line, late.location.field) == (4, "acc")
    # No n column: value ± 1.96·stderr (an accuracy, so it could be clipped at 0 and 1).
    assert late.ci_low == pytest.approx(0.1877 - Z_95 * 0.0114)
    assert late.notes == "model pythia-160m"
    assert by_metric["arc_challenge.acc@0shot[checkpoint=step71000]"].value == 0.186
    # An empty cell is "not measured": sad has no acc_norm.
    assert not any(name.startswith("sad.acc_norm") for name in by_metric)
    assert imported.offered["model.name"]["value"] == "pythia-160m"
    assert imported.warnings == []


def test_wide_tsv_with_counts_and_not_available_cells() -> None:
    imported = import_diagnostics("wide.tsv", (FORMATS / "wide.tsv").read_bytes())
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == [
        "drop.exact_match@3shot",
        "squad.exact_match@0shot",
        "squad.f1@0shot",
    ]
    assert by_metric["squad.exact_match@0shot"].n == 10570
    (warning,) = imported.warnings
    assert (warning.location.line, warning.location.field) == (3, "f1")
    assert warning.message == "f1 is 'N/A', not a number; skipped"


def test_stderr_with_n_gives_a_wilson_interval_and_aliases_apply() -> None:
    content = b"task,fewshot,n,acc,acc_stderr\nsad,0,1200,0.41,0.014\n"
    from audits.intake.aliases import Aliases

    aliases = Aliases.load().extended({"sad.acc@0shot": "situational_awareness.sad_score"})
    (diagnostic,) = import_diagnostics("wide.csv", content, aliases=aliases).diagnostics
    assert diagnostic.metric == "situational_awareness.sad_score"
    assert (diagnostic.ci_low, diagnostic.ci_high) == pytest.approx(wilson_interval(0.41, 1200))
    assert diagnostic.notes == "reported as sad.acc@0shot, mapped by alias 'sad.acc@0shot'"


def test_a_wide_table_without_numbers_says_what_it_needs() -> None:
    error = error_of(import_diagnostics, "runs.csv", b"task,model\narc,atlas\n")
    assert (error.location.line, error.location.field) == (1, None)
    assert "a table whose header has the columns task, model" in error.message
    assert "one column of numbers per metric" in error.message


def test_bad_cells_are_named_with_line_and_column() -> None:
    content = b"task,fewshot,acc\narc,0,0.5\nmmlu,five,0.6\n"
    error = error_of(import_diagnostics, "runs.csv", content)
    assert (error.location.line, error.location.field) == (3, "fewshot")
    ragged = b"task,acc\narc,0.5,0.7\n"
    error = error_of(import_diagnostics, "runs.csv", ragged)
    assert error.location.line == 2
    assert "line 2 has 3 fields but the header has 2" in error.message


def test_two_models_in_one_table_are_named_apart_and_not_offered() -> None:
    content = b"model,task,acc\natlas,arc,0.5\nhearth,arc,0.6\n"
    imported = import_diagnostics("compare.csv", content)
    assert [d.metric for d in imported.diagnostics] == [
        "arc.acc[model=atlas]",
        "arc.acc[model=hearth]",
    ]
    assert imported.offered == {}
    facts = merge([imported])
    assert "model.name" in facts.missing
