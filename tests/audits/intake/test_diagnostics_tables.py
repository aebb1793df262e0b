"""Summary and per-sample diagnostics tables (CSV, TSV, JSON records)."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.intake.diagnostics import common, detect, import_diagnostics
from audits.intake.diagnostics.tables import RowLines
from audits.intake.types import IntakeError
from tests.audits.intake.diagnostics_helpers import error_of

# ---------------------------------------------------------------- summary tables


def test_summary_csv_keeps_every_column_with_its_line() -> None:
    content = (
        b"metric,value,ci_low,ci_high,n,suite,notes,supersedes\n"
        b'scheming.in_context_rate,0.12,0.09,0.15,400,Apollo in-context,"covert, agentic",'
        b"old-run.csv\n"
        b"lm_latency_seconds,1.5,,,,,,\n"
    )
    imported = import_diagnostics("summary.csv", content)
    assert imported.kind == "diagnostics_table"
    assert [d.as_fact() for d in imported.diagnostics] == [
        {
            "metric": "scheming.in_context_rate",
            "value": 0.12,
            "source": "summary.csv",
            "ci_low": 0.09,
            "ci_high": 0.15,
            "n": 400,
            "suite": "Apollo in-context",
            "notes": "covert, agentic",
            "supersedes": "old-run.csv",
        },
        {"metric": "lm_latency_seconds", "value": 1.5, "source": "summary.csv"},
    ]
    assert [d.location.line for d in imported.diagnostics] == [2, 3]
    assert imported.warnings == []


def test_tsv_and_header_case_and_bom_are_accepted() -> None:
    content = "\ufeffMetric\tValue\tN\nreward_hacking.rate\t0.05\t100\n".encode()
    assert detect("export.txt", content) == "diagnostics_table"
    (diagnostic,) = import_diagnostics("export.txt", content).diagnostics
    assert (diagnostic.metric, diagnostic.value, diagnostic.n) == ("reward_hacking.rate", 0.05, 100)


def test_json_records_table() -> None:
    content = json.dumps(
        [
            {"metric": "eval_awareness.rate", "value": 0.31, "n": 250, "suite": "in-house"},
            {"metric": "planning.lookahead_steps", "value": 7, "ci_low": 5, "ci_high": 9},
        ]
    ).encode()
    assert detect("records.json", content) == "diagnostics_table"
    imported = import_diagnostics("records.json", content)
    assert [(d.metric, d.value, d.n, d.ci_low, d.ci_high) for d in imported.diagnostics] == [
        ("eval_awareness.rate", 0.31, 250, None, None),
        ("planning.lookahead_steps", 7.0, None, 5.0, 9.0),
    ]
    assert imported.diagnostics[1].location.field == "[1].metric"


def test_json_records_errors_name_the_record_and_key() -> None:
    content = b'[{"metric": "reward_hacking.rate", "value": 0.1}, {"metric": "x", "value": "0.2"}]'
    error = error_of(import_diagnostics, "records.json", content)
    assert error.location.field == "[1].value"
    assert "must be a JSON number" in error.message


def test_same_metric_twice_with_same_value_is_a_warning_not_an_error() -> None:
    content = b"metric,value\nreward_hacking.rate,0.05\nreward_hacking.rate,0.05\n"
    imported = import_diagnostics("twice.csv", content)
    assert len(imported.diagnostics) == 1
    (warning,) = imported.warnings
    assert warning.location.line == 3 and "kept once" in warning.message


def test_blank_and_multi_line_rows_keep_physical_line_numbers() -> None:
    content = (
        b"metric,value,notes\n"
        b'reward_hacking.rate,0.05,"first line\nsecond line"\n'
        b"\n"
        b"eval_awareness.rate,abc,\n"
    )
    error = error_of(import_diagnostics, "lines.csv", content)
    assert (error.location.line, error.location.field) == (5, "value")
    assert error.message == "value 'abc' is not a number"


def test_header_only_table_is_refused() -> None:
    error = error_of(import_diagnostics, "empty.csv", b"metric,value\n")
    assert "no rows" in error.message


def test_too_many_rows_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(common, "MAX_TABLE_ROWS", 3)
    content = b"metric,sample_id,value\n" + b"".join(b"m,%d,1\n" % i for i in range(5))
    error = error_of(import_diagnostics, "big.csv", content)
    assert "more than 3 rows" in error.message


def test_header_without_metric_and_value_says_what_was_expected_and_found() -> None:
    content = b"name,score_text\nfoo,high\n"
    error = error_of(import_diagnostics, "scores.csv", content)
    assert (error.location.line, error.location.field) == (1, None)
    assert "a table whose header has the columns name, score_text" in error.message
    assert "needs either 'metric' and 'value' columns" in error.message


def test_short_row_missing_only_optional_columns_is_named() -> None:
    content = b"metric,value,n\nreward_hacking.rate,0.05,100\nlatency,1.5\n"
    error = error_of(import_diagnostics, "short.csv", content)
    assert error.location.line == 3
    assert "line 3 has 2 fields but the header has 3" in error.message


# ---------------------------------------------------------------- bounded work


def test_many_repeated_rows_fold_into_one_warning() -> None:
    rows = b"".join(b"reward_hacking.rate,0.05\n" for _ in range(500))
    imported = import_diagnostics("dup.csv", b"metric,value\n" + rows)
    assert len(imported.diagnostics) == 1
    (warning,) = imported.warnings
    assert warning.repeats == 498
    assert [place.line for place in warning.also] == [4, 5, 6]
    assert warning.as_dict()["message"].endswith(
        "kept once … and 498 more like this (dup.csv, line 4, field metric; "
        "dup.csv, line 5, field metric; dup.csv, line 6, field metric, …)"
    )


def test_runaway_repeated_rows_are_refused_naming_the_row(monkeypatch) -> None:
    monkeypatch.setattr(common, "MAX_DISTINCT_METRICS", 10)
    monkeypatch.setattr(common, "MAX_DUPLICATE_ROWS", 5)
    rows = b"".join(b"reward_hacking.rate,0.05\n" for _ in range(20))
    error = error_of(import_diagnostics, "dup.csv", b"metric,value\n" + rows)
    assert error.location.line == 8  # the sixth repeat: rows 3..7 are the first five
    assert "more than 5 rows repeat an earlier row (this is one of 19)" in error.message


def test_too_many_distinct_metrics_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(common, "MAX_DISTINCT_METRICS", 10)
    summary = b"".join(b"metric_%d,0.5\n" % i for i in range(12))
    error = error_of(import_diagnostics, "wide.csv", b"metric,value\n" + summary)
    assert (error.location.line, error.location.field) == (12, "metric")
    assert "more than 10 rows with different metrics" in error.message
    samples = b"".join(b"metric_%d,s,1\n" % i for i in range(12))
    error = error_of(import_diagnostics, "ps.csv", b"metric,sample_id,value\n" + samples)
    assert (error.location.line, error.location.field) == (12, "metric")
    assert "more than 10 metrics" in error.message


def test_processing_time_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(common, "MAX_IMPORT_SECONDS", 0.0)
    content = b"metric,sample_id,value\n" + b"".join(b"m,%d,1\n" % i for i in range(50))
    error = error_of(import_diagnostics, "slow.csv", content)
    assert error.location.file == "slow.csv"
    assert "took more than 0 s of processing time" in error.message
    assert "split it into smaller files" in error.message


def test_a_clean_per_sample_table_finds_lines_only_for_what_it_reports(monkeypatch) -> None:
    scanned: list[int] = []
    original = RowLines.line

    def counting(self: RowLines, row: int) -> int:
        scanned.append(row)
        return original(self, row)

    monkeypatch.setattr(RowLines, "line", counting)
    monkeypatch.setattr(RowLines, "check_all", lambda self: pytest.fail("full csv pass"))
    body = b"".join(b"m%d,s%d,%d\n" % (i % 2, i, i % 2) for i in range(10_000))
    imported = import_diagnostics("clean.csv", b"metric,sample_id,value\n" + body)
    assert [d.location.line for d in imported.diagnostics] == [2, 3]
    assert max(scanned) == 1  # only the first row of each metric was located


# ---------------------------------------------------------------- per-sample tables


def _per_sample(rows: list[tuple[str, str, object]]) -> bytes:
    lines = ["metric,sample_id,value"] + [f"{m},{s},{v}" for m, s, v in rows]
    return ("\n".join(lines) + "\n").encode()


def test_wilson_interval_for_0_1_samples_matches_hand_computation() -> None:
    # 7 of 20: p = 0.35; Wilson with z = 1.959964 gives [0.181192, 0.567146] by hand.
    rows = [("scheming.in_context_rate", f"ep-{i}", 1 if i < 7 else 0) for i in range(20)]
    (diagnostic,) = import_diagnostics("rollouts.csv", _per_sample(rows)).diagnostics
    assert diagnostic.value == pytest.approx(0.35)
    assert diagnostic.n == 20
    assert diagnostic.ci_low == pytest.approx(0.181192, abs=1e-6)
    assert diagnostic.ci_high == pytest.approx(0.567146, abs=1e-6)
    assert diagnostic.method == "mean of 20 samples; Wilson score 95% interval"
    assert diagnostic.location.line == 2


def test_student_t_interval_for_continuous_samples_matches_hand_computation() -> None:
    # 1..5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445 -> half width 1.963243.
    rows = [("latency_seconds", f"q{i}", i) for i in range(1, 6)]
    (diagnostic,) = import_diagnostics("latency.csv", _per_sample(rows)).diagnostics
    assert diagnostic.value == pytest.approx(3.0)
    assert diagnostic.ci_low == pytest.approx(1.036757, abs=1e-6)
    assert diagnostic.ci_high == pytest.approx(4.963243, abs=1e-6)
    assert diagnostic.method == "mean of 5 samples; Student t 95% interval (df 4)"


@pytest.mark.parametrize(
    ("values", "method"),
    [
        ([0, 1, 1], "Wilson"),
        ([1, 1, 1], "Wilson"),
        ([0, 0], "Wilson"),
        (["0.0", "1.0", "1"], "Wilson"),
        ([0, 1, 0.5], "Student t"),
        ([0, 2], "Student t"),
    ],
)
def test_zero_one_detection(values: list[object], method: str) -> None:
    rows = [("some_metric", f"s{i}", value) for i, value in enumerate(values)]
    (diagnostic,) = import_diagnostics("s.csv", _per_sample(rows)).diagnostics
    assert method in (diagnostic.method or "")


def test_mixed_metrics_aggregate_separately_in_order_of_first_row() -> None:
    rows = [
        ("eval_awareness.rate", "t1", 1),
        ("tokens_per_answer", "t1", 120),
        ("eval_awareness.rate", "t2", 0),
        ("tokens_per_answer", "t2", 80),
        ("eval_awareness.rate", "t3", 0),
        ("tokens_per_answer", "t3", 100),
        ("sad_overall", "t1", 1),
    ]
    imported = import_diagnostics("mixed.csv", _per_sample(rows))
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert list(by_metric) == [
        "eval_awareness.rate",
        "tokens_per_answer",
        "situational_awareness.sad_score",
    ]
    assert by_metric["eval_awareness.rate"].value == pytest.approx(1 / 3)
    assert "Wilson" in (by_metric["eval_awareness.rate"].method or "")
    assert by_metric["tokens_per_answer"].value == pytest.approx(100.0)
    assert "Student t" in (by_metric["tokens_per_answer"].method or "")
    sad = by_metric["situational_awareness.sad_score"]
    assert (sad.n, sad.value, sad.location.line) == (1, 1.0, 8)
    assert sad.notes == "reported as sad_overall, mapped by alias 'sad_overall'"


def test_single_continuous_sample_has_no_interval() -> None:
    (diagnostic,) = import_diagnostics("one.csv", _per_sample([("latency", "a", 2.5)])).diagnostics
    assert (diagnostic.ci_low, diagnostic.ci_high) == (None, None)
    assert diagnostic.method == "mean of 1 sample; no interval"


def test_t_interval_of_a_catalogue_fraction_is_clipped_to_the_unit() -> None:
    rows = [("deception.defection_probe_auroc", f"p{i}", v) for i, v in enumerate([0.99, 0.7])]
    (diagnostic,) = import_diagnostics("auroc.csv", _per_sample(rows)).diagnostics
    assert diagnostic.ci_high == 1.0 and diagnostic.ci_low == 0.0
    assert "interval clipped to the fraction range" in (diagnostic.method or "")


def test_per_sample_suite_is_kept_per_metric_and_must_not_conflict() -> None:
    content = (
        b"metric,sample_id,value,suite\n"
        b"reward_hacking.rate,a,0,ImpossibleBench\n"
        b"reward_hacking.rate,b,1,\n"
    )
    (diagnostic,) = import_diagnostics("rh.csv", content).diagnostics
    assert diagnostic.suite == "ImpossibleBench"
    conflicting = content + b"reward_hacking.rate,c,1,Other\n"
    error = error_of(import_diagnostics, "rh.csv", conflicting)
    assert (error.location.line, error.location.field) == (4, "suite")
    assert "suite differs within metric reward_hacking.rate" in error.message


def test_per_sample_table_refuses_summary_columns() -> None:
    error = error_of(import_diagnostics, "s.csv", b"metric,sample_id,value,n\nm,a,1,3\n")
    assert (error.location.line, error.location.field) == (1, "n")
    assert "not allowed in a per-sample table" in error.message


def test_large_per_sample_table_names_the_first_bad_row() -> None:
    count = 200_000
    body = b"".join(b"eval_awareness.rate,s%d,%d\n" % (i, i % 2) for i in range(count))
    content = b"metric,sample_id,value\n" + body
    (diagnostic,) = import_diagnostics("big.csv", content).diagnostics
    assert diagnostic.n == count and diagnostic.value == pytest.approx(0.5)
    broken = content + b"eval_awareness.rate,late,1.5\n"
    error = error_of(import_diagnostics, "big.csv", broken)
    assert (error.location.line, error.location.field) == (count + 2, "value")
    assert "out of range for eval_awareness.rate" in error.message


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_ever_raise_intake_error(content: bytes) -> None:
    for name in ("fuzz.csv", "fuzz.json", "fuzz.tsv", "fuzz.eval"):
        with contextlib.suppress(IntakeError):  # anything else fails the test
            import_diagnostics(name, content)


_cell = st.one_of(
    st.text(alphabet=',"\t\n\r x0123456789.-eEnaifNI', max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "-1", "1e400", "0", "1", "sad_overall"]),
)


@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(
        [
            "metric,value",
            "metric,value,n,ci_low,ci_high",
            "metric,sample_id,value",
            "metric,sample_id,value,suite",
            "metric\tvalue",
        ]
    ),
    rows=st.lists(st.lists(_cell, min_size=0, max_size=6), max_size=8),
)
def test_table_shaped_text_only_ever_raises_intake_error(
    header: str, rows: list[list[str]]
) -> None:
    text = header + "\n" + "\n".join(",".join(row) for row in rows)
    try:
        imported = import_diagnostics("fuzz.csv", text.encode())
    except IntakeError:
        return
    for diagnostic in imported.diagnostics:
        assert math.isfinite(diagnostic.value)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.lists(st.integers(0, 1), min_size=1, max_size=60),
        st.lists(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60
        ),
    )
)
def test_aggregate_mean_is_within_samples_and_interval(values: list[float]) -> None:
    rows = [("some_metric", f"s{i}", repr(value)) for i, value in enumerate(values)]
    (diagnostic,) = import_diagnostics("p.csv", _per_sample(rows)).diagnostics
    parsed = [float(value) for value in values]
    assert min(parsed) <= diagnostic.value <= max(parsed)
    assert diagnostic.n == len(values)
    if diagnostic.ci_low is not None:
        assert diagnostic.ci_high is not None
        assert diagnostic.ci_low <= diagnostic.value <= diagnostic.ci_high
