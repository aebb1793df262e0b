"""lighteval / Open LLM Leaderboard results files."""

from __future__ import annotations

import json

import pytest

from audits.intake import import_file, merge
from audits.intake.diagnostics import detect, import_diagnostics, wilson_interval
from tests.audits.intake.cards_support import sample
from tests.audits.intake.diagnostics_helpers import FORMATS, error_of

RESULTS = FORMATS / "lighteval-results.json"


def test_leaderboard_results_file() -> None:
    content = RESULTS.read_bytes()
    assert detect(RESULTS.name, content) == "lighteval"
    imported = import_diagnostics(RESULTS.name, content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == [
        "lighteval.harness.arc:challenge.acc@25shot",
        "lighteval.harness.arc:challenge.acc_norm@25shot",
        "lighteval.harness.gsm8k.acc@5shot",
        "lighteval.harness.hellaswag.acc@10shot",
        "lighteval.harness.hellaswag.acc_norm@10shot",
        "lighteval.harness.truthfulqa:mc.mc1@0shot",
        "lighteval.harness.truthfulqa:mc.mc2@0shot",
    ]  # `all`, the mean over the tasks, is not a task
    arc = by_metric["lighteval.harness.arc:challenge.acc_norm@25shot"]
    assert (arc.value, arc.n, arc.suite) == (0.5460750853242321, 1172, "lighteval 494ee12")
    assert arc.location.field == "results.harness|arc:challenge|25.acc_norm"
    assert (arc.ci_low, arc.ci_high) == pytest.approx(wilson_interval(0.5460750853242321, 1172))
    mc2 = by_metric["lighteval.harness.truthfulqa:mc.mc2@0shot"]
    assert mc2.ci_high == pytest.approx(0.435601924823795 + 1.959964 * 0.014179199089974604)
    assert imported.offered["model.name"]["value"] == "example-lab/atlas-7b"
    assert imported.warnings == []


def test_card_claims_are_checked_against_a_leaderboard_file() -> None:
    card = import_file("zephyr.md", sample("hf-mirror_HuggingFaceH4_zephyr-7b-beta_README.md"))
    leaderboard = import_diagnostics(RESULTS.name, RESULTS.read_bytes())
    warnings = [w for w in merge([card, leaderboard]).warnings if "claims" in w.message]
    # The card claims 62.03 (ARC, 25-shot), 84.36 (HellaSwag, 10-shot) and 57.45
    # (TruthfulQA mc2, 0-shot); this file measured 0.546, 0.763 and 0.436. Its GSM8K
    # (0.1274) agrees with the card's 12.74, and each contradiction is its own warning.
    flagged = sorted(w.message.split(" = ")[0].split()[-1] for w in warnings)
    assert flagged == [
        "hf.text-generation.ai2_arc:ARC-Challenge.acc_norm@25shot",
        "hf.text-generation.hellaswag.acc_norm@10shot",
        "hf.text-generation.truthful_qa:multiple_choice.mc2@0shot",
    ]


def test_a_result_without_numbers_is_refused() -> None:
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    document["results"] = {"harness|arc:challenge|25": {"acc": "n/a"}}
    error = error_of(import_diagnostics, "r.json", json.dumps(document).encode())
    assert "reports no numeric metric" in error.message and error.location.field == "results"
