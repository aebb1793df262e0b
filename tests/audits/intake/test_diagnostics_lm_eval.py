"""lm-evaluation-harness results files (v0.3 and v0.4 layouts), and every shared sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audits.intake.aliases import Aliases
from audits.intake.diagnostics import Z_95, detect, import_diagnostics
from audits.intake.types import IntakeError
from tests.audits.intake.diagnostics_helpers import (
    EVAL_RESULTS,
    LM_EVAL_V03,
    LM_EVAL_V04,
    error_of,
    shared_eval_results,
)


def _by_metric(path: Path) -> dict[str, object]:
    imported = import_diagnostics(path.name, path.read_bytes())
    assert imported.kind == "lm_eval"
    return {d.metric: d for d in imported.diagnostics}


def test_v03_pythia_file() -> None:
    content = LM_EVAL_V03.read_bytes()
    assert detect(LM_EVAL_V03.name, content) == "lm_eval"
    imported = import_diagnostics(LM_EVAL_V03.name, content)
    source = json.loads(content)
    # Every reported metric becomes one diagnostic; each *_stderr becomes its interval.
    expected = sum(
        1 for metrics in source["results"].values() for key in metrics if "_stderr" not in key
    )
    assert len(imported.diagnostics) == expected == 172
    assert imported.warnings == []
    by_metric = {d.metric: d for d in imported.diagnostics}
    arc = by_metric["lm_eval.arc_challenge.acc"]
    assert arc.value == 0.18771331058020477
    assert arc.ci_low == pytest.approx(0.18771331058020477 - Z_95 * 0.011411001314155123)
    assert arc.ci_high == pytest.approx(0.18771331058020477 + Z_95 * 0.011411001314155123)
    assert arc.suite == "lm-evaluation-harness 0.3"
    assert arc.notes == "0-shot"
    assert arc.n is None  # v0.3 does not say how many samples
    assert arc.method == "reported stderr; normal 95% interval (value ± 1.96·stderr)"
    assert arc.location.field == "results.arc_challenge.acc"
    crows = by_metric["lm_eval.crows_pairs_english.likelihood_difference"]
    assert crows.value == 3.4450749105545615
    algebra = by_metric["lm_eval.hendrycksTest-abstract_algebra.acc_norm"]
    assert algebra.value == 0.31
    assert algebra.ci_high == pytest.approx(0.31 + Z_95 * 0.04648231987117316)


def test_v04_nl2foam_file() -> None:
    content = LM_EVAL_V04.read_bytes()
    assert detect(LM_EVAL_V04.name, content) == "lm_eval"
    by_metric = _by_metric(LM_EVAL_V04)
    assert sorted(by_metric) == [
        "lm_eval.nl2foam_gen_original.bert_score",
        "lm_eval.nl2foam_gen_original.bleu",
        "lm_eval.nl2foam_gen_original.rouge1",
        "lm_eval.nl2foam_gen_original.rouge2",
        "lm_eval.nl2foam_gen_original.rougeL",
        "lm_eval.nl2foam_llm_judge_original.llm_judge",
    ]
    bleu = by_metric["lm_eval.nl2foam_gen_original.bleu"]
    assert (bleu.value, bleu.n, bleu.suite) == (
        0.5770713868973584,
        2849,
        "lm-evaluation-harness 0.4.9.2",
    )
    assert bleu.ci_low == pytest.approx(0.5770713868973584 - Z_95 * 0.002462402921501157)
    assert bleu.location.field == "results.nl2foam_gen_original.bleu,none"
    judge = by_metric["lm_eval.nl2foam_llm_judge_original.llm_judge"]
    assert (judge.value, judge.n, judge.notes) == (89.156, 100, "0-shot")
    assert judge.ci_high == pytest.approx(89.156 + Z_95 * 0.44919804738171226)


def _v04(results: dict[str, dict[str, object]], **extra: object) -> bytes:
    document = {
        "results": results,
        "configs": {},
        "versions": dict.fromkeys(results, 1.0),
        "n-shot": dict.fromkeys(results, 5),
        "n-samples": {task: {"original": 1319, "effective": 1000} for task in results},
        "lm_eval_version": "0.4.3",
        **extra,
    }
    return json.dumps(document).encode()


def test_v04_filters_name_the_metric_and_pair_with_their_stderr() -> None:
    content = _v04(
        {
            "gsm8k": {
                "alias": "gsm8k",
                "exact_match,strict-match": 0.41,
                "exact_match_stderr,strict-match": 0.013,
                "exact_match,flexible-extract": 0.45,
                "exact_match_stderr,flexible-extract": 0.014,
            }
        }
    )
    imported = import_diagnostics("results.json", content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == [
        "lm_eval.gsm8k.exact_match.flexible-extract",
        "lm_eval.gsm8k.exact_match.strict-match",
    ]
    strict = by_metric["lm_eval.gsm8k.exact_match.strict-match"]
    assert strict.ci_low == pytest.approx(0.41 - Z_95 * 0.013)
    assert (strict.n, strict.notes, strict.suite) == (1000, "5-shot", "lm-evaluation-harness 0.4.3")


def test_non_numeric_values_are_skipped_with_a_warning() -> None:
    content = _v04(
        {
            "mmlu": {"acc,none": 0.6, "acc_stderr,none": "N/A"},
            "truthfulqa": {"bleu_max,none": "N/A", "bleu_max_stderr,none": 0.8, "mc2,none": 0.4},
        }
    )
    imported = import_diagnostics("results.json", content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == ["lm_eval.mmlu.acc", "lm_eval.truthfulqa.mc2"]
    assert by_metric["lm_eval.mmlu.acc"].ci_low is None
    messages = sorted((w.location.field, w.message) for w in imported.warnings)
    assert messages == [
        (
            "results.mmlu.acc_stderr,none",
            'stderr of lm_eval.mmlu.acc is "N/A"; the value is kept without an interval',
        ),
        (
            "results.truthfulqa.bleu_max,none",
            'lm_eval.truthfulqa.bleu_max is "N/A", not a finite number; skipped',
        ),
    ]


def test_catalogue_tasks_map_through_the_default_aliases() -> None:
    content = _v04({"sad": {"acc,none": 0.48, "acc_stderr,none": 0.01}})
    (diagnostic,) = import_diagnostics("sad-results.json", content).diagnostics
    assert diagnostic.metric == "situational_awareness.sad_score"
    assert diagnostic.value == 0.48
    assert (
        diagnostic.notes == "reported as lm_eval.sad.acc, mapped by alias 'lm_eval:sad/acc'; 5-shot"
    )
    assert diagnostic.location.field == "results.sad.acc,none"
    assert diagnostic.ci_low == pytest.approx(0.48 - Z_95 * 0.01)


def test_stderr_interval_of_a_catalogue_fraction_is_clipped() -> None:
    content = _v04({"sad": {"acc,none": 0.99, "acc_stderr,none": 0.02}})
    (diagnostic,) = import_diagnostics("sad-results.json", content).diagnostics
    assert diagnostic.ci_high == 1.0
    assert diagnostic.method is not None and "clipped to the fraction range" in diagnostic.method


def test_old_v04_groups_are_kept_once() -> None:
    content = _v04(
        {"mmlu_stem": {"acc,none": 0.5}},
        groups={"mmlu": {"acc,none": 0.55}, "mmlu_stem": {"acc,none": 0.5}},
    )
    imported = import_diagnostics("results.json", content)
    assert [(d.metric, d.location.field) for d in imported.diagnostics] == [
        ("lm_eval.mmlu_stem.acc", "results.mmlu_stem.acc,none"),
        ("lm_eval.mmlu.acc", "groups.mmlu.acc,none"),
    ]


def test_two_tasks_mapped_to_one_catalogue_id_with_different_values_conflict() -> None:
    aliases = Aliases.load().extended({"lm_eval:sad_*/acc": "situational_awareness.sad_score"})
    content = _v04({"sad_a": {"acc,none": 0.4}, "sad_b": {"acc,none": 0.5}})
    error = error_of(import_diagnostics, "results.json", content, aliases=aliases)
    assert "situational_awareness.sad_score is reported twice" in error.message
    assert error.location.field == "results.sad_b.acc,none"
    assert "results.sad_a.acc,none" in error.message


def test_a_file_without_numeric_metrics_is_refused() -> None:
    content = _v04({"task": {"alias": "task", "acc,none": "N/A"}})
    with pytest.raises(IntakeError, match="reports no numeric metric"):
        import_diagnostics("results.json", content)


@pytest.mark.parametrize("path", sorted(EVAL_RESULTS.iterdir()), ids=lambda path: path.name)
def test_every_bundled_sample_imports(path: Path) -> None:
    imported = import_diagnostics(path.name, path.read_bytes())
    assert imported.diagnostics


def test_every_shared_sample_imports_when_the_shared_folder_is_present() -> None:
    shared = shared_eval_results()
    if shared is None:
        pytest.skip("the shared samples folder is not next to this checkout")
    files = sorted(path for path in shared.iterdir() if path.is_file())
    assert files
    for path in files:
        content = path.read_bytes()
        kind = detect(path.name, content)
        assert kind in ("lm_eval", "inspect"), path.name
        imported = import_diagnostics(path.name, content)
        assert imported.kind == kind and imported.diagnostics, path.name
