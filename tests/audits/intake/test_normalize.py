"""Normalization: merging imports into one facts document with provenance."""

from __future__ import annotations

import pytest

from audits.canonical import sha256_hex
from audits.intake import Diagnostic, Imported, IntakeErrors, Location, import_file, merge
from audits.intake.filing import schema_leaf_paths
from tests.audits.intake.cards_support import FILING_HEAD, sample

ZEPHYR = "hf-mirror_HuggingFaceH4_zephyr-7b-beta_README.md"


def filing(source: str, text: str) -> Imported:
    return import_file(source, (FILING_HEAD + text).encode())


def diagnostic(metric: str, value: float, source: str, **extra) -> Diagnostic:
    return Diagnostic(metric=metric, value=value, location=Location(file=source), **extra)


def evaluation(source: str, *diagnostics: Diagnostic, kind: str = "lm_eval") -> Imported:
    return Imported(source=source, kind=kind, diagnostics=list(diagnostics))


def test_a_single_filing_round_trips_into_facts():
    imported = import_file("coding-agent.filing.yaml", sample("coding-agent.filing.yaml"))
    facts = merge([imported])
    document = facts.document
    assert document["filing_schema"] == "govportal/filing/1"
    assert document["model"]["parameters"] == 3.4e10
    assert document["deployment"]["context_window_tokens"] == 200000
    assert [d["metric"] for d in document["diagnostics"]] == sorted(
        d["metric"] for d in document["diagnostics"]
    )
    assert document["diagnostics"][0]["source"] == "coding-agent.filing.yaml"
    assert facts.provenance["model.parameters"] == {
        "file": "coding-agent.filing.yaml",
        "line": 8,
        "field": "model.parameters",
    }
    assert facts.provenance["diagnostics[eval_awareness.rate]"]["line"] == 39
    assert facts.sha256 == sha256_hex(document)
    assert facts.missing == ["model.base_model"]  # the example fills every other field...
    household = merge([import_file("h.yaml", sample("household-robot.filing.yaml"))])
    # ...the household robot leaves some out, reported in schema order.
    assert household.missing == [
        "model.release_date",
        "model.base_model",
        "deployment.context_window_tokens",
        "transparency.interpretability_methods",
    ]


def test_card_and_filing_merge_with_missing_fields_listed():
    card = import_file(ZEPHYR, sample(ZEPHYR))
    facts = merge([card])
    assert facts.document["model"] == {
        "name": "zephyr-7b-beta",
        "base_model": "mistralai/Mistral-7B-v0.1",
    }
    assert "model.version" in facts.missing and "model.developer" in facts.missing
    assert facts.missing == [
        p for p in schema_leaf_paths() if p not in ("model.name", "model.base_model")
    ]
    assert any("model.version is required" in w.message for w in facts.warnings)
    assert facts.metadata[ZEPHYR]["card.license"] == "mit"
    assert len(facts.document["diagnostics"]) == 9
    assert facts.provenance["diagnostics[hf.text-generation.drop.f1]"]["field"] == (
        "model-index[0].results[2].metrics[0]"
    )
    assert facts.narrative and facts.narrative[0].location.file == ZEPHYR


def test_conflicting_fact_names_both_sources():
    first = filing("a.yaml", "  parameters: 7.0e9\n")
    second = filing("b.yaml", "  parameters: 8.0e9\n")
    with pytest.raises(IntakeErrors) as caught:
        merge([first, second])
    [error] = caught.value.errors
    assert error.location.field == "model.parameters"
    assert "a.yaml, line 6" in error.message and "b.yaml, line 6" in error.message


def test_equal_facts_keep_the_first_source_and_note_the_others():
    first = filing("a.yaml", "  parameters: 7.0e9\n")
    second = filing("b.yaml", "  parameters: 7000000000\n")
    facts = merge([first, second])
    assert facts.provenance["model.parameters"]["file"] == "a.yaml"
    assert facts.provenance["model.parameters"]["also"][0]["file"] == "b.yaml"


def test_conflicting_metric_names_both_sources():
    with pytest.raises(IntakeErrors) as caught:
        merge(
            [
                evaluation("run-1.csv", diagnostic("eval_awareness.rate", 0.1, "run-1.csv")),
                evaluation("run-2.csv", diagnostic("eval_awareness.rate", 0.2, "run-2.csv")),
            ]
        )
    message = caught.value.errors[0].message
    assert "run-1.csv" in message and "run-2.csv" in message
    assert "supersedes: run-1.csv" in message


def test_superseding_entry_wins():
    newer = diagnostic("eval_awareness.rate", 0.2, "run-2.csv", supersedes="run-1.csv")
    facts = merge(
        [
            evaluation("run-1.csv", diagnostic("eval_awareness.rate", 0.1, "run-1.csv")),
            evaluation("run-2.csv", newer),
        ]
    )
    [kept] = facts.document["diagnostics"]
    assert kept["value"] == 0.2 and kept["supersedes"] == "run-1.csv"
    provenance = facts.provenance["diagnostics[eval_awareness.rate]"]
    assert provenance["superseded"][0]["file"] == "run-1.csv"


def test_superseded_sources_argument():
    facts = merge(
        [
            evaluation("run-1.csv", diagnostic("eval_awareness.rate", 0.1, "run-1.csv")),
            evaluation("run-2.csv", diagnostic("eval_awareness.rate", 0.2, "run-2.csv")),
        ],
        superseded={"run-1.csv"},
    )
    assert facts.document["diagnostics"][0]["value"] == 0.2


def test_model_card_claim_contradicting_an_evaluation_is_a_warning():
    card = import_file(ZEPHYR, sample(ZEPHYR))
    lm_eval = evaluation(
        "results.json",
        diagnostic("lm_eval.arc_challenge.acc_norm", 0.55, "results.json"),
        diagnostic("lm_eval.hellaswag.acc_norm", 0.8436, "results.json"),
    )
    facts = merge([card, lm_eval])
    contradictions = [w for w in facts.warnings if "the model card claims" in w.message]
    assert len(contradictions) == 1  # hellaswag agrees (84.36 % vs 0.8436)
    warning = contradictions[0]
    assert "hf.text-generation.ai2_arc:ARC-Challenge.acc_norm" in warning.message
    assert "lm_eval.arc_challenge.acc_norm" in warning.message
    assert warning.location.field == "model-index[0].results[0].metrics[0]"


def test_merged_facts_are_validated_and_located_at_their_source():
    broken = Imported(source="weird.json", kind="lm_eval")
    broken.diagnostics.append(diagnostic("eval_awareness.rate", 3.0, "weird.json"))
    with pytest.raises(IntakeErrors) as caught:
        merge([broken])
    error = caught.value.errors[0]
    assert error.location.file == "weird.json"
    assert error.location.field == "diagnostics[0].value"


def test_evidence_is_merged_by_file():
    first = filing("a.yaml", "evidence:\n  - {file: audit.pdf, description: Probe study}\n")
    second = filing("b.yaml", "evidence:\n  - {file: audit.pdf, description: Another}\n")
    facts = merge([first, second])
    assert facts.document["evidence"] == [{"file": "audit.pdf", "description": "Probe study"}]
    assert facts.provenance["evidence[audit.pdf]"]["file"] == "a.yaml"
    assert any("described twice" in w.message for w in facts.warnings)


def test_empty_merge_is_an_empty_draft():
    facts = merge([])
    assert facts.document == {"filing_schema": "govportal/filing/1"}
    assert facts.missing == schema_leaf_paths()
