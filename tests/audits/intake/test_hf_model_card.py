"""Hugging Face model cards: metadata, model-index diagnostics, govportal block, narrative."""

from __future__ import annotations

import pytest

from audits.intake import IntakeErrors, import_file
from audits.intake.hf_model_card import import_hf_model_card
from tests.audits.intake.cards_support import sample

ZEPHYR = "hf-mirror_HuggingFaceH4_zephyr-7b-beta_README.md"


@pytest.fixture(scope="module")
def zephyr():
    return import_hf_model_card(ZEPHYR, sample(ZEPHYR))


def test_zephyr_card_facts(zephyr):
    assert zephyr.kind == "hf_model_card"
    assert zephyr.fields["model.name"] == "zephyr-7b-beta"
    assert zephyr.provenance["model.name"].field == "model-index[0].name"
    assert zephyr.fields["model.base_model"] == "mistralai/Mistral-7B-v0.1"
    assert zephyr.provenance["model.base_model"].line == 10
    # Card metadata is kept with its place, outside the filing facts.
    assert {key: entry["value"] for key, entry in zephyr.metadata.items()} == {
        "pipeline_tag": "text-generation",
        "license": "mit",
        "language": ["en"],
        "tags": ["generated_from_trainer"],
        "datasets": ["HuggingFaceH4/ultrachat_200k", "HuggingFaceH4/ultrafeedback_binarized"],
    }
    assert zephyr.metadata["license"]["source"] == {"file": ZEPHYR, "line": 4, "field": "license"}
    assert not any(path.startswith("card.") for path in zephyr.fields)
    assert zephyr.warnings == []


def test_zephyr_model_index_results_become_named_diagnostics(zephyr):
    by_metric = {d.metric: d for d in zephyr.diagnostics}
    assert len(by_metric) == 9
    # The few-shot count (dataset.args.num_few_shot) is part of each name.
    arc = by_metric["hf.text-generation.ai2_arc:ARC-Challenge.acc_norm@25shot"]
    assert arc.value == pytest.approx(62.03071672354948)
    assert arc.suite == "AI2 Reasoning Challenge (25-Shot)"
    assert arc.location.field == "model-index[0].results[0].metrics[0]"
    assert arc.location.line == 42
    assert "Open LLM Leaderboard" in (arc.notes or "")
    mmlu = by_metric["hf.text-generation.cais/mmlu:all.acc@5shot"]
    assert mmlu.value == 61.07
    assert mmlu.location.field == "model-index[0].results[5].metrics[0]"
    drop = by_metric["hf.text-generation.drop.f1@3shot"]
    assert drop.location.field == "model-index[0].results[2].metrics[0]"
    assert by_metric["hf.text-generation.unknown.unknown"].value == 7.34


def test_zephyr_body_is_split_into_sections_with_file_lines(zephyr):
    titles = [s.title for s in zephyr.narrative]
    assert "Model Card for Zephyr 7B β" in titles
    assert "Intended uses & limitations" in titles
    heading = next(s for s in zephyr.narrative if s.title == "Model Card for Zephyr 7B β")
    assert heading.location.line == 195
    assert "Direct Preference Optimization" in heading.markdown
    # Comments inside the YAML front matter are not markdown headings.
    assert not any("AlpacaEval" in s.title for s in zephyr.narrative)


def test_tulu_card_with_empty_results():
    name = "hf-mirror_allenai_tulu-2-dpo-7b_README.md"
    imported = import_hf_model_card(name, sample(name))
    assert imported.fields["model.name"] == "tulu-2-dpo-7b"
    assert imported.fields["model.base_model"] == "meta-llama/Llama-2-7b-hf"
    assert imported.diagnostics == [] and imported.warnings == []


CARD = """---
license: apache-2.0
library_name: transformers
model-index:
- name: atlas-7b
  results:
  - task: {type: text-generation}
    dataset: {type: gsm8k, name: GSM8K}
    metrics:
    - {type: acc, value: 0.51}
  - task: {type: text-generation}
    metrics:
    - {type: acc, value: 0.9}
  - task: {type: text-generation}
    dataset: {type: mmlu, name: MMLU}
    metrics:
    - {type: acc, value: "n/a"}
%s---

# Model Card for Atlas

Atlas is a model.

## Limitations

It makes mistakes.
"""


def test_malformed_model_index_results_are_warnings_not_failures():
    imported = import_hf_model_card("README.md", (CARD % "").encode())
    assert [d.metric for d in imported.diagnostics] == ["hf.text-generation.gsm8k.acc"]
    fields = sorted(w.location.field for w in imported.warnings)
    assert fields == ["model-index[0].results[1]", "model-index[0].results[2].metrics[0]"]
    assert imported.warnings[0].location.line == 11
    assert imported.metadata["library_name"]["value"] == "transformers"


def test_model_index_that_is_not_a_list_is_a_warning():
    text = "---\nmodel-index: {name: x}\n---\n# Model Card for X\n"
    imported = import_hf_model_card("README.md", text.encode())
    assert imported.diagnostics == []
    assert imported.warnings[0].location.field == "model-index"
    assert imported.fields["model.name"] == "X"


def test_govportal_block_holds_filing_fields():
    block = (
        "govportal:\n"
        "  model:\n"
        '    version: "1.0"\n'
        "    developer: Example Lab\n"
        "    parameters: 7.0e9\n"
        "  training:\n"
        "    objectives: [self_supervised, rlhf]\n"
        "  diagnostics:\n"
        "    - {metric: eval_awareness.rate, value: 0.03}\n"
    )
    imported = import_hf_model_card("README.md", (CARD % block).encode())
    assert imported.fields["model.name"] == "atlas-7b"
    assert imported.fields["model.version"] == "1.0"
    assert imported.fields["model.parameters"] == 7.0e9
    assert imported.provenance["model.parameters"].field == "govportal.model.parameters"
    assert imported.provenance["model.parameters"].line == 22
    assert imported.fields["training.objectives"] == ["self_supervised", "rlhf"]
    assert "eval_awareness.rate" in {d.metric for d in imported.diagnostics}
    assert [s.title for s in imported.narrative] == ["Model Card for Atlas", "Limitations"]


def test_govportal_block_is_strict_with_prefixed_paths():
    block = "govportal:\n  model:\n    colour: red\n  training:\n    rl_horizon_steps: -1\n"
    with pytest.raises(IntakeErrors) as caught:
        import_hf_model_card("README.md", (CARD % block).encode())
    fields = {e.location.field: e.location.line for e in caught.value.errors}
    assert fields == {"govportal.model.colour": 20, "govportal.training.rl_horizon_steps": 22}


def test_govportal_name_overrides_card_name_with_a_warning():
    block = "govportal:\n  model:\n    name: Atlas\n"
    imported = import_hf_model_card("README.md", (CARD % block).encode())
    assert imported.fields["model.name"] == "Atlas"
    assert any("atlas-7b" in w.message for w in imported.warnings)


def test_several_base_models_are_not_squeezed_into_one():
    text = "---\nbase_model: [a/one, b/two]\n---\n# Model Card for Merge\n"
    imported = import_hf_model_card("README.md", text.encode())
    assert "model.base_model" not in imported.fields
    assert imported.warnings[0].location.field == "base_model"


def test_card_without_model_index_takes_the_title():
    imported = import_file(
        "README.md", b"---\nlicense: mit\n---\n\n# Model Card for Mistral-7B\n\nText.\n"
    )
    assert imported.kind == "hf_model_card"
    assert imported.fields["model.name"] == "Mistral-7B"
    assert imported.provenance["model.name"].line == 5


def test_front_matter_pattern_is_huggingface_hubs():
    from huggingface_hub.repocard import REGEX_YAML_BLOCK as HUB_PATTERN

    from audits.intake.hf_model_card import REGEX_YAML_BLOCK

    assert REGEX_YAML_BLOCK.pattern == HUB_PATTERN.pattern
    assert REGEX_YAML_BLOCK.flags == HUB_PATTERN.flags


SHARED_TYPES = """---
model-index:
- name: qa-model
  results:
  - task: {type: question-answering}
    dataset: {type: squad, name: SQuAD, split: validation}
    metrics:
    - {type: squad, value: 80.9, name: EM}
    - {type: squad, value: 88.2, name: F1}
  - task: {type: text-classification}
    dataset: {type: emotion, name: Emotion}
    metrics:
    - {type: precision, value: 0.91, config: macro}
    - {type: precision, value: 0.93, config: micro}
    - {type: precision, value: 0.92, config: weighted}
    - {type: accuracy, value: 0.93}
---
# QA model
"""


def test_metrics_sharing_a_type_stay_distinct_by_config_or_name():
    imported = import_hf_model_card("README.md", SHARED_TYPES.encode())
    assert {d.metric: d.value for d in imported.diagnostics} == {
        "hf.question-answering.squad.squad(EM)": 80.9,
        "hf.question-answering.squad.squad(F1)": 88.2,
        "hf.text-classification.emotion.precision:macro": 0.91,
        "hf.text-classification.emotion.precision:micro": 0.93,
        "hf.text-classification.emotion.precision:weighted": 0.92,
        "hf.text-classification.emotion.accuracy": 0.93,
    }
    assert imported.warnings == []


DEEP_RL = """---
library_name: stable-baselines3
tags: [LunarLander-v2, deep-reinforcement-learning, reinforcement-learning]
model-index:
- name: PPO
  results:
  - task: {type: reinforcement-learning, name: reinforcement-learning}
    dataset: {name: LunarLander-v2, type: LunarLander-v2}
    metrics:
    - {type: mean_reward, value: -54.39 +/- 27.31, name: mean_reward, verified: false}
---
# **PPO** Agent playing **LunarLander-v2**
"""


def test_deep_rl_course_value_with_its_spread():
    imported = import_hf_model_card("README.md", DEEP_RL.encode())
    (diagnostic,) = imported.diagnostics
    assert diagnostic.metric == "hf.reinforcement-learning.LunarLander-v2.mean_reward"
    assert diagnostic.value == -54.39
    assert diagnostic.ci_low is None  # a spread of episode rewards is not an interval
    assert "reported as -54.39 +/- 27.31 (± 27.31 is the spread" in (diagnostic.notes or "")
    assert imported.warnings == []
    assert imported.fields["model.name"] == "PPO"
    assert imported.metadata["library_name"]["value"] == "stable-baselines3"
