"""lm-evaluation-harness results files (v0.3 and v0.4 layouts), and every shared sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audits.intake import merge
from audits.intake.aliases import Aliases
from audits.intake.diagnostics import Z_95, detect, import_diagnostics, wilson_interval
from audits.intake.types import IntakeError
from tests.audits.intake.cards_support import require_shared_samples
from tests.audits.intake.diagnostics_helpers import (
    EVAL_RESULTS,
    LM_EVAL_V03,
    LM_EVAL_V04,
    error_of,
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
    # config.num_fewshot is 0: the shot count is part of every name.
    arc = by_metric["lm_eval.arc_challenge.acc@0shot"]
    assert arc.value == 0.18771331058020477
    assert arc.ci_low == pytest.approx(0.18771331058020477 - Z_95 * 0.011411001314155123)
    assert arc.ci_high == pytest.approx(0.18771331058020477 + Z_95 * 0.011411001314155123)
    assert arc.suite == "lm-evaluation-harness 0.3"
    assert arc.notes == "model EleutherAI/pythia-v1.1-160m"
    assert arc.n is None  # v0.3 does not say how many samples
    assert arc.method == "reported stderr; normal 95% interval (value ± 1.96·stderr)"
    assert arc.location.field == "results.arc_challenge.acc"
    assert imported.offered["model.name"] == {
        "value": "EleutherAI/pythia-v1.1-160m",
        "source": {"file": LM_EVAL_V03.name, "line": None, "field": "config.model_args"},
    }
    crows = by_metric["lm_eval.crows_pairs_english.likelihood_difference@0shot"]
    assert crows.value == 3.4450749105545615
    algebra = by_metric["lm_eval.hendrycksTest-abstract_algebra.acc_norm@0shot"]
    assert algebra.value == 0.31
    assert algebra.ci_high == pytest.approx(0.31 + Z_95 * 0.04648231987117316)


def test_v04_nl2foam_file() -> None:
    content = LM_EVAL_V04.read_bytes()
    assert detect(LM_EVAL_V04.name, content) == "lm_eval"
    by_metric = _by_metric(LM_EVAL_V04)
    assert sorted(by_metric) == [
        "lm_eval.nl2foam_gen_original.bert_score@0shot",
        "lm_eval.nl2foam_gen_original.bleu@0shot",
        "lm_eval.nl2foam_gen_original.rouge1@0shot",
        "lm_eval.nl2foam_gen_original.rouge2@0shot",
        "lm_eval.nl2foam_gen_original.rougeL@0shot",
        "lm_eval.nl2foam_llm_judge_original.llm_judge@0shot",
    ]
    bleu = by_metric["lm_eval.nl2foam_gen_original.bleu@0shot"]
    assert (bleu.value, bleu.n, bleu.suite) == (
        0.5770713868973584,
        2849,
        "lm-evaluation-harness 0.4.9.2",
    )
    assert bleu.ci_low == pytest.approx(0.5770713868973584 - Z_95 * 0.002462402921501157)
    assert bleu.location.field == "results.nl2foam_gen_original.bleu,none"
    judge = by_metric["lm_eval.nl2foam_llm_judge_original.llm_judge@0shot"]
    assert (judge.value, judge.n) == (89.156, 100)
    assert judge.ci_high == pytest.approx(89.156 + Z_95 * 0.44919804738171226)
    # The model is a local path (model_args.pretrained): named in the notes, never offered
    # as the model's name.
    assert judge.notes == "model /scratch/hieu/nl2foam_sft_0/outputs/nl2foam_sft_0__8__1765350318"
    assert "model.name" not in _import(LM_EVAL_V04).offered


def _import(path: Path):
    return import_diagnostics(path.name, path.read_bytes())


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
        "lm_eval.gsm8k.exact_match.flexible-extract@5shot",
        "lm_eval.gsm8k.exact_match.strict-match@5shot",
    ]
    strict = by_metric["lm_eval.gsm8k.exact_match.strict-match@5shot"]
    # exact_match is a share of 0/1 outcomes and n is known: Wilson's interval.
    assert (strict.ci_low, strict.ci_high) == pytest.approx(wilson_interval(0.41, 1000))
    assert strict.method == (
        "Wilson score 95% interval for a proportion of 1,000 samples (reported stderr 0.013)"
    )
    assert (strict.n, strict.suite) == (1000, "lm-evaluation-harness 0.4.3")


def test_non_numeric_values_are_skipped_with_a_warning() -> None:
    content = _v04(
        {
            "mmlu": {"acc,none": 0.6, "acc_stderr,none": "N/A"},
            "truthfulqa": {"bleu_max,none": "N/A", "bleu_max_stderr,none": 0.8, "mc2,none": 0.4},
        }
    )
    imported = import_diagnostics("results.json", content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == ["lm_eval.mmlu.acc@5shot", "lm_eval.truthfulqa.mc2@5shot"]
    assert by_metric["lm_eval.mmlu.acc@5shot"].ci_low is None
    messages = sorted((w.location.field, w.message) for w in imported.warnings)
    assert messages == [
        (
            "results.mmlu.acc_stderr,none",
            'stderr of lm_eval.mmlu.acc@5shot is "N/A"; the value is kept without an interval',
        ),
        (
            "results.truthfulqa.bleu_max,none",
            'lm_eval.truthfulqa.bleu_max@5shot is "N/A", not a finite number; skipped',
        ),
    ]


def test_catalogue_tasks_map_through_the_default_aliases_for_the_banded_shot_count() -> None:
    zero_shot = _v04({"sad": {"acc,none": 0.48, "acc_stderr,none": 0.01}}, **{"n-shot": {"sad": 0}})
    (diagnostic,) = import_diagnostics("sad-results.json", zero_shot).diagnostics
    assert diagnostic.metric == "situational_awareness.sad_score"
    assert diagnostic.value == 0.48
    assert diagnostic.notes == (
        "reported as lm_eval.sad.acc@0shot, mapped by alias 'lm_eval:sad/acc@0shot'"
    )
    assert diagnostic.location.field == "results.sad.acc,none"
    assert (diagnostic.ci_low, diagnostic.ci_high) == pytest.approx(wilson_interval(0.48, 1000))
    # The rubric's band is for zero-shot SAD: a 5-shot run stays under its own name.
    five_shot = _v04({"sad": {"acc,none": 0.55, "acc_stderr,none": 0.01}})
    (other,) = import_diagnostics("sad-5shot.json", five_shot).diagnostics
    assert other.metric == "lm_eval.sad.acc@5shot"


def test_zero_and_five_shot_runs_of_one_model_file_together() -> None:
    zero = import_diagnostics(
        "arc-0shot.json",
        _v04({"arc_challenge": {"acc,none": 0.43}}, **{"n-shot": {"arc_challenge": 0}}),
    )
    five = import_diagnostics("arc-5shot.json", _v04({"arc_challenge": {"acc,none": 0.47}}))
    v03 = json.dumps(
        {
            "results": {"arc_challenge": {"acc": 0.45, "acc_stderr": 0.01}},
            "versions": {"arc_challenge": 0},
            "config": {"model_args": "pretrained=org/model", "num_fewshot": 25},
        }
    ).encode()
    twenty_five = import_diagnostics("arc-v03.json", v03)
    facts = merge([zero, five, twenty_five])
    assert sorted(d["metric"] for d in facts.document["diagnostics"]) == [
        "lm_eval.arc_challenge.acc@0shot",
        "lm_eval.arc_challenge.acc@25shot",
        "lm_eval.arc_challenge.acc@5shot",
    ]


def test_stderr_interval_of_a_proportion_stays_within_0_and_1() -> None:
    # No sample count: value ± 1.96·stderr, cut at 1, for any accuracy (catalogue or not).
    document = {
        "results": {"arc_easy": {"acc": 0.99, "acc_stderr": 0.02}},
        "versions": {"arc_easy": 0},
    }
    (diagnostic,) = import_diagnostics("arc.json", json.dumps(document).encode()).diagnostics
    assert diagnostic.metric == "lm_eval.arc_easy.acc"  # no few-shot count stated
    assert diagnostic.ci_high == 1.0
    assert diagnostic.ci_low == pytest.approx(0.99 - Z_95 * 0.02)
    assert diagnostic.method is not None and "clipped to [0, 1]" in diagnostic.method
    # A metric that is not a proportion keeps its interval as it is.
    document["results"]["arc_easy"] = {"perplexity": 0.99, "perplexity_stderr": 0.02}
    (other,) = import_diagnostics("arc.json", json.dumps(document).encode()).diagnostics
    assert other.ci_high == pytest.approx(0.99 + Z_95 * 0.02)


def test_bookkeeping_keys_are_not_metrics_and_give_the_sample_counts() -> None:
    # lm-eval >= 0.4.3 writes groups into `results` with their alias, name and sample
    # counts; `sample_count` is per metric, `sample_len` for the task.
    content = _v04(
        {
            "mmlu": {
                "alias": "mmlu",
                "name": "mmlu",
                "sample_len": 14042,
                "sample_count": {"acc,none": 14042},
                "acc,none": 0.62,
                "acc_stderr,none": 0.0039,
            },
            "mmlu_humanities": {
                "alias": " - humanities",
                "acc,none": 0.58,
                "acc_stderr,none": "N/A",
            },
            "mmlu_formal_logic": {"alias": "  - formal_logic", "sample_len": 126, "acc,none": 0.4},
            "mmlu_philosophy": {"alias": "  - philosophy", "acc,none": 0.7},
        },
        group_subtasks={
            "mmlu": ["mmlu_humanities"],
            "mmlu_humanities": ["mmlu_formal_logic", "mmlu_philosophy"],
        },
        **{
            "n-samples": {"mmlu_philosophy": {"original": 311, "effective": 311}},
            "n-shot": {"mmlu_formal_logic": 5, "mmlu_philosophy": 5},
        },
    )
    imported = import_diagnostics("mmlu.json", content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == [
        "lm_eval.mmlu.acc@5shot",
        "lm_eval.mmlu_formal_logic.acc@5shot",
        "lm_eval.mmlu_humanities.acc@5shot",
        "lm_eval.mmlu_philosophy.acc@5shot",
    ]
    assert by_metric["lm_eval.mmlu.acc@5shot"].n == 14042  # sample_count
    assert by_metric["lm_eval.mmlu_formal_logic.acc@5shot"].n == 126  # sample_len
    assert by_metric["lm_eval.mmlu_philosophy.acc@5shot"].n == 311  # n-samples
    assert by_metric["lm_eval.mmlu_humanities.acc@5shot"].n == 126 + 311  # its subtasks
    # The group's shot count is its subtasks' one; the only warning is the N/A stderr.
    assert [w.location.field for w in imported.warnings] == [
        "results.mmlu_humanities.acc_stderr,none"
    ]
    assert not any(
        word in w.message for w in imported.warnings for word in ("alias", "sample_len", "name")
    )


def test_old_v04_groups_are_kept_once() -> None:
    content = _v04(
        {"mmlu_stem": {"acc,none": 0.5}},
        groups={"mmlu": {"acc,none": 0.55}, "mmlu_stem": {"acc,none": 0.5}},
    )
    imported = import_diagnostics("results.json", content)
    assert [(d.metric, d.location.field) for d in imported.diagnostics] == [
        ("lm_eval.mmlu_stem.acc@5shot", "results.mmlu_stem.acc,none"),
        # The file states no few-shot count for the group (no n-shot, no group_subtasks).
        ("lm_eval.mmlu.acc", "groups.mmlu.acc,none"),
    ]


def test_two_tasks_mapped_to_one_catalogue_id_with_different_values_conflict() -> None:
    aliases = Aliases.load().extended({"lm_eval:sad_*/acc@*": "situational_awareness.sad_score"})
    content = _v04({"sad_a": {"acc,none": 0.4}, "sad_b": {"acc,none": 0.5}})
    error = error_of(import_diagnostics, "results.json", content, aliases=aliases)
    assert "situational_awareness.sad_score is reported twice" in error.message
    assert "mapped to this catalogue metric by the alias file" in error.message
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


def test_every_shared_evaluation_sample_imports() -> None:
    shared = require_shared_samples() / "eval_results"
    files = sorted(path for path in shared.iterdir() if path.is_file())
    assert files
    for path in files:
        content = path.read_bytes()
        kind = detect(path.name, content)
        assert kind in ("lm_eval", "inspect"), path.name
        imported = import_diagnostics(path.name, content)
        assert imported.kind == kind and imported.diagnostics, path.name
