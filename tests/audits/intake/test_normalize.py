"""Normalization: merging imports into one facts document with provenance."""

from __future__ import annotations

import json

import pytest

from audits.canonical import sha256_hex
from audits.intake import Diagnostic, Imported, IntakeErrors, Location, import_file, merge
from audits.intake.catalogue import unscored_diagnostics, unscored_summary
from audits.intake.filing import schema_leaf_paths
from audits.intake.types import (
    MAX_WARNINGS_PER_FACTS,
    MAX_WARNINGS_PER_FILE,
    imported_from_dict,
    imported_to_dict,
)
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
    assert facts.metadata["license"] == {
        "value": "mit",
        "source": {"file": ZEPHYR, "line": 4, "field": "license"},
    }
    assert len(facts.document["diagnostics"]) == 9
    assert facts.provenance["diagnostics[hf.text-generation.drop.f1@3shot]"]["field"] == (
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
                evaluation(
                    "run-1.csv",
                    diagnostic("eval_awareness.rate", 0.1, "run-1.csv"),
                    kind="diagnostics_table",
                ),
                evaluation(
                    "run-2.csv",
                    diagnostic("eval_awareness.rate", 0.2, "run-2.csv"),
                    kind="diagnostics_table",
                ),
            ]
        )
    message = caught.value.errors[0].message
    assert "run-1.csv" in message and "run-2.csv" in message
    # A table can carry `supersedes`, so that is the advice.
    assert "mark the newer entry with `supersedes: run-1.csv`" in message


@pytest.mark.parametrize(
    ("models", "advice"),
    [
        (
            ("org/atlas-7b", "org/atlas-7b"),
            "they are two runs of org/atlas-7b of the same evaluation: file only one of them",
        ),
        (
            ("org/atlas-7b", "org/hearth-1"),
            "a.json is a run of org/atlas-7b and b.json a run of org/hearth-1: they are runs "
            "of different models",
        ),
    ],
)
def test_conflicting_runs_get_advice_a_log_can_follow(models, advice):
    runs = [
        evaluation(source, diagnostic("lm_eval.arc.acc@0shot", value, source, model=model))
        for source, value, model in zip(("a.json", "b.json"), (0.4, 0.5), models, strict=True)
    ]
    with pytest.raises(IntakeErrors) as caught:
        merge(runs)
    message = caught.value.errors[0].message
    assert advice in message
    assert "supersedes:" not in message  # an lm-eval log has no such key


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
    assert "hf.text-generation.ai2_arc:ARC-Challenge.acc_norm@25shot" in warning.message
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


def test_metadata_is_kept_with_its_source_and_never_scored_or_hashed():
    card = import_file(ZEPHYR, sample(ZEPHYR))
    without = merge([card])
    card.metadata.clear()
    bare = merge([card])
    assert without.sha256 == bare.sha256
    assert "license" not in json.dumps(without.document)
    assert set(without.metadata) == {"pipeline_tag", "license", "language", "tags", "datasets"}


def test_metadata_round_trips_through_the_stored_form():
    card = import_file(ZEPHYR, sample(ZEPHYR))
    stored = json.loads(json.dumps(imported_to_dict(card)))
    assert merge([imported_from_dict(stored)]).metadata == merge([card]).metadata


def test_an_evaluation_offers_the_model_name_only_when_no_input_states_it():
    log = evaluation("log.json", diagnostic("inspect.t.s.accuracy", 0.5, "log.json"))
    log.offer("model.name", "openai/gpt-4o-mini", Location("log.json", field="eval.model"))
    alone = merge([log])
    assert alone.document["model"]["name"] == "openai/gpt-4o-mini"
    assert alone.provenance["model.name"]["field"] == "eval.model"
    # The same model under the card's spelling: no warning.
    same = merge([filing("card.yaml", ""), log])  # FILING_HEAD names Atlas
    assert same.document["model"]["name"] == "Atlas"
    (warning,) = [w for w in same.warnings if w.kind == "evaluated_other_model"]
    assert "log.json is an evaluation of 'openai/gpt-4o-mini'" in warning.message
    assert "model.name is 'Atlas' (card.yaml, line 3, field model.name)" in warning.message
    spelled = import_file("card.yaml", FILING_HEAD.replace("Atlas", "GPT-4o mini").encode())
    assert not [w for w in merge([spelled, log]).warnings if w.kind == "evaluated_other_model"]


def test_evaluations_of_different_models_leave_the_name_missing_with_both_named():
    first = evaluation("a.json")
    first.offer("model.name", "org/atlas", Location("a.json", field="eval.model"))
    second = evaluation("b.json")
    second.offer("model.name", "org/hearth", Location("b.json", field="eval.model"))
    facts = merge([first, second])
    assert "model.name" in facts.missing
    (warning,) = [w for w in facts.warnings if w.kind == "evaluated_models_differ"]
    assert "'org/atlas' in a.json, field eval.model" in warning.message
    assert "'org/hearth' in b.json, field eval.model" in warning.message


def test_confidential_marks_from_the_filing_and_the_card():
    marked_card = (
        b"# Model Card for Atlas\n\n## Training data\n\n<!-- govportal:confidential -->\n"
        b"Licensed corpora.\n\n## Limitations\n\nIt errs.\n\n## Evaluation\n\nSAD.\n"
    )
    card = import_file("card.md", marked_card)
    marks = filing(
        "filing.yaml",
        "confidential_sections: [evaluation, Red teaming]\n"
        "evidence:\n"
        "  - {file: probe-study.pdf, description: Probes, confidential: true}\n"
        "  - {file: summary.pdf}\n",
    )
    facts = merge([card, marks])
    assert facts.confidential_sections == ["Training data", "evaluation", "Red teaming"]
    assert facts.confidential_evidence == ["probe-study.pdf"]
    flags = {section.title: section.confidential for section in facts.narrative}
    assert flags == {"Training data": True, "Limitations": False, "Evaluation": True}
    training = next(s for s in facts.narrative if s.title == "Training data")
    assert "govportal" not in training.markdown  # the marker is not shown
    assert facts.metadata["confidential_evidence"]["source"]["field"] == "evidence[0]"
    # A listed title that matches no section is worth a warning.
    (unmatched,) = [w for w in facts.warnings if "no narrative section" in w.message]
    assert "'Red teaming'" in unmatched.message
    # Marks are not facts: the document and its hash are the same without them.
    plain_card = marked_card.replace(b"<!-- govportal:confidential -->\n", b"")
    plain_filing = (
        "evidence:\n  - {file: probe-study.pdf, description: Probes}\n  - {file: summary.pdf}\n"
    )
    unmarked = merge([import_file("card.md", plain_card), filing("filing.yaml", plain_filing)])
    assert unmarked.sha256 == facts.sha256
    assert facts.document["evidence"] == unmarked.document["evidence"]


def test_facts_warnings_are_folded_and_capped():
    imports = []
    for index in range(300):
        source = f"f{index}.json"
        imported = evaluation(source)
        imported.warn("a warning of its own kind", Location(source), kind=f"kind-{index}")
        imports.append(imported)
    facts = merge(imports)
    assert len(facts.warnings) == MAX_WARNINGS_PER_FACTS
    not_kept = facts.warnings[-1]
    assert not_kept.kind == "warnings_not_kept"
    # 300 file warnings and 3 for the missing model name, version and developer.
    assert not_kept.repeats == 303 - (MAX_WARNINGS_PER_FACTS - 1)
    assert not_kept.text.startswith("104 more warnings of other kinds were not kept")


def test_one_file_keeps_at_most_its_cap_and_counts_the_rest():
    imported = evaluation("noisy.json")
    for index in range(80):
        imported.warn(f"problem {index}", Location("noisy.json", line=index + 1), kind=f"k{index}")
        imported.warn(
            f"problem {index} again", Location("noisy.json", line=index + 1), kind=f"k{index}"
        )
    assert len(imported.warnings) == MAX_WARNINGS_PER_FILE
    assert imported.warnings[0].repeats == 1
    not_kept = imported.warnings[-1]
    assert (not_kept.kind, not_kept.repeats) == ("warnings_not_kept", 2 * 80 - 2 * 49)
    stored = json.loads(json.dumps(imported_to_dict(imported)))
    again = imported_from_dict(stored)
    assert again.warnings == imported.warnings
    assert stored["warnings"][-1]["message"] == not_kept.text


def test_unscored_diagnostics_are_listed_with_their_sources():
    facts = merge(
        [
            evaluation(
                "run.json",
                diagnostic("eval_awareness.rate", 0.1, "run.json"),
                diagnostic("lm_eval.arc.acc@0shot", 0.4, "run.json"),
            )
        ]
    )
    assert unscored_diagnostics(facts.document, facts.provenance) == [
        {
            "metric": "lm_eval.arc.acc@0shot",
            "value": 0.4,
            "source": "run.json",
            "location": {"file": "run.json", "line": None, "field": None},
        }
    ]
    assert unscored_summary(facts.unscored()) == (
        "1 diagnostic read but not scored (not in the metric catalogue): lm_eval.arc.acc@0shot"
    )
    assert unscored_summary([]) is None


def test_card_claims_are_compared_at_the_same_few_shot_count():
    card = import_file(ZEPHYR, sample(ZEPHYR))  # ARC acc_norm 62.03 at 25 shots
    zero_shot = evaluation(
        "zero.json", diagnostic("lm_eval.arc_challenge.acc_norm@0shot", 0.40, "zero.json")
    )
    assert not [w for w in merge([card, zero_shot]).warnings if "claims" in w.message]
    lighteval = evaluation(
        "results.json",
        diagnostic("lighteval.harness.arc:challenge.acc_norm@25shot", 0.55, "results.json"),
        kind="lighteval",
    )
    (warning,) = [w for w in merge([card, lighteval]).warnings if "claims" in w.message]
    assert "lighteval.harness.arc:challenge.acc_norm@25shot = 0.55" in warning.message
