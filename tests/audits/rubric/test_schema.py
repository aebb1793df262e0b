"""Rubric files are validated strictly on load, each error naming its path; checksums are stable."""

import copy
import hashlib
import json

import pytest
import yaml

from audits.canonical import sha256_hex
from audits.rubric import (
    RubricError,
    available_rubrics,
    find_rubric,
    load_rubric,
    load_rubric_text,
    rubric_errors,
)
from audits.rubric.schema import PRECAUTIONARY_TEMPLATES
from tests.audits.rubric.helpers import RUBRIC_FILE, RUBRIC_V11_FILE

# Changing a published rubric's content changes these: publish a new version instead.
RUBRIC_V1_SHA256 = "8c5cfff3f49c3a8fb403c3802323bd60a965870a98e62cb3ff5473f76fd917db"
RUBRIC_V11_SHA256 = "6d87e1d7c19e8041921881b43e61514c35bcceded7e8beb5849c0a7303a6c168"
# 1.0.0's file is kept byte for byte, comments included.
RUBRIC_V1_FILE_BYTES_SHA256 = "7dd262d273f83e8a33310ed7fab75b62ef9b0a34d76077ec0f6a6b92d089a387"


@pytest.fixture
def document():
    return copy.deepcopy(load_rubric(RUBRIC_FILE).content)


def first_error(document):
    errors = rubric_errors(document)
    assert errors, "the document was accepted"
    return errors[0]


def test_shipped_rubric_is_valid_and_pinned():
    rubric = load_rubric(RUBRIC_FILE)
    assert (rubric.urn, rubric.version) == ("urn:govportal:rubric:mesa-optimization", "1.0.0")
    assert rubric.sha256 == sha256_hex(rubric.content) == RUBRIC_V1_SHA256
    assert rubric.reference == "urn:govportal:rubric:mesa-optimization@1.0.0"
    assert [c["id"] for c in rubric.content["criteria"]] == [
        "E1",
        "E2",
        "E3",
        "E4",
        "E5",
        "E6",
        "E7",
        "P1",
        "P2",
        "P3",
        "P4",
        "D1",
        "D2",
        "D3",
        "D4",
        "D5",
        "D6",
        "T1",
        "T2",
        "T3",
        "T4",
    ]


def test_checksum_ignores_comments_formatting_and_key_order(document):
    # The same content written as JSON, keys reversed, no comments: same checksum.
    reordered = json.dumps(dict(reversed(list(document.items()))), indent=3)
    assert load_rubric_text(reordered).sha256 == RUBRIC_V1_SHA256
    text = RUBRIC_FILE.read_text() + "\n# a trailing comment\n"
    assert load_rubric_text(text).sha256 == RUBRIC_V1_SHA256


def test_checksum_changes_with_content(document):
    document["criteria"][0]["weight"] = 4
    assert load_rubric_text(json.dumps(document)).sha256 != RUBRIC_V1_SHA256


def test_unknown_key_names_its_path(document):
    document["criteria"][3]["signals"][0]["wieght"] = 1
    error = first_error(document)
    assert error.path == "criteria[3].signals[0].wieght"
    assert "unknown key 'wieght'" in error.message


def test_unknown_top_level_key(document):
    document["tier"] = []
    assert first_error(document).path == "tier"


def test_missing_required_key(document):
    del document["criteria"][2]["missing_level"]
    error = first_error(document)
    assert error.path == "criteria[2].missing_level"
    assert "missing" in error.message


def test_category_weights_must_sum_to_one(document):
    document["categories"][0]["weight"] = 0.35
    error = first_error(document)
    assert error.path == "categories"
    assert "sum to 1" in error.message


def test_unknown_criterion_in_gate(document):
    document["gates"][0]["when"]["all"][1] = {"level": "D9", "gte": 2}
    error = first_error(document)
    assert error.path == "gates[0].when.all[1].level"
    assert "unknown criterion 'D9'" in error.message


def test_gate_may_only_refer_to_earlier_gates(document):
    document["gates"][0]["when"] = {"gate": "G5"}
    assert first_error(document).path == "gates[0].when.gate"


def test_unknown_tier_in_gate(document):
    document["gates"][1]["min_tier"] = "severe"
    assert first_error(document).path == "gates[1].min_tier"


def test_unknown_category_in_criterion(document):
    document["criteria"][5]["category"] = "emergency"
    assert first_error(document).path == "criteria[5].category"


def test_unknown_fact_path(document):
    document["criteria"][0]["signals"][1]["fact"] = "training.task_family"
    error = first_error(document)
    assert error.path == "criteria[0].signals[1].fact"
    assert "unknown fact" in error.message


def test_unknown_diagnostic(document):
    document["criteria"][6]["signals"][0]["fact"] = "diagnostics[planning.lookahead]"
    error = first_error(document)
    assert error.path == "criteria[6].signals[0].fact"
    assert "catalogue" in error.message


def test_map_key_must_be_a_value_of_the_fact(document):
    document["criteria"][0]["signals"][0]["map"]["open-ended"] = 3
    error = first_error(document)
    assert error.path == "criteria[0].signals[0].map.open-ended"
    assert "allowed: narrow, moderate, broad, open_ended" in error.message


def test_map_must_give_every_value_a_level(document):
    del document["criteria"][0]["signals"][0]["map"]["broad"]
    error = first_error(document)
    assert error.path == "criteria[0].signals[0].map"
    assert "no level for broad" in error.message


def test_unquoted_boolean_map_key_is_explained():
    text = RUBRIC_FILE.read_text().replace(
        'map: {"true": 0, "false": 1}', "map: {true: 0, false: 1}", 1
    )
    with pytest.raises(RubricError) as raised:
        load_rubric_text(text, source="edited.yaml")
    assert raised.value.path == "criteria[4].signals[0].map.True"
    assert "quote booleans" in raised.value.message
    assert str(raised.value).startswith("edited.yaml, at criteria[4].signals[0].map.True:")


def test_band_gap_is_an_error(document):
    document["criteria"][0]["signals"][1]["bands"][1]["min"] = 11
    error = first_error(document)
    assert error.path == "criteria[0].signals[1].bands[1].min"
    assert "must start where the previous one ends: min: 10" in error.message


def test_band_overlap_is_an_error(document):
    document["criteria"][1]["signals"][0]["bands"][2]["above"] = 1.0e10
    error = first_error(document)
    assert error.path == "criteria[1].signals[0].bands[2].above"


def test_last_band_must_be_open(document):
    document["criteria"][1]["signals"][0]["bands"][3]["max"] = 1.0e15
    assert first_error(document).path == "criteria[1].signals[0].bands[3].max"


def test_level_above_max_level(document):
    document["criteria"][4]["signals"][0]["map"]["false"] = 2  # E5 has max_level 1
    error = first_error(document)
    assert error.path == "criteria[4].signals[0].map.false"
    assert "max_level 1" in error.message


def test_condition_operator_must_fit_the_fact(document):
    document["conditions"]["general"] = {"fact": "model.scope", "gte": 2}
    error = first_error(document)
    assert error.path == "conditions.general.gte"
    assert "not a number" in error.message


def test_condition_value_must_be_allowed(document):
    document["conditions"]["general"] = {"fact": "model.scope", "eq": "general"}
    assert first_error(document).path == "conditions.general.eq"


def test_unknown_named_condition(document):
    document["criteria"][4]["applies_when"] = {"condition": "reinforcement"}
    assert first_error(document).path == "criteria[4].applies_when.condition"


def test_named_condition_cycle(document):
    document["conditions"]["rl"] = {"any": [{"condition": "learned_objective"}]}
    errors = rubric_errors(document)
    assert any("cycle" in error.message for error in errors)


def test_level_conditions_only_in_gates(document):
    document["criteria"][4]["applies_when"] = {"level": "E1", "gte": 1}
    assert first_error(document).path == "criteria[4].applies_when.level"


def test_present_only_takes_true(document):
    document["criteria"][7]["adjustments"][0]["when"] = {
        "fact": "diagnostics[reward_hacking.rate]",
        "present": False,
    }
    assert first_error(document).path == "criteria[7].adjustments[0].when.present"


def test_unknown_template_placeholder(document):
    document["explanation_templates"]["assessed"] = "Level {level}: {reason}."
    error = first_error(document)
    assert error.path == "explanation_templates.assessed"
    assert "{reason}" in error.message


def test_duplicate_criterion_id(document):
    document["criteria"][1]["id"] = "E1"
    assert first_error(document).path == "criteria[1]"


def test_duplicate_yaml_key_is_an_error():
    text = RUBRIC_FILE.read_text().replace("    weight: 3\n", "    weight: 3\n    weight: 2\n", 1)
    with pytest.raises(RubricError, match="duplicate key 'weight'"):
        load_rubric_text(text)


def test_all_errors_are_reported_in_document_order(document):
    document["criteria"][10]["weight"] = -1
    document["criteria"][2]["weight"] = "heavy"
    with pytest.raises(RubricError) as raised:
        load_rubric_text(json.dumps(document), source="bad.json")
    assert [error.path for error in raised.value.errors] == [
        "criteria[2].weight",
        "criteria[10].weight",
    ]
    assert "(and 1 more)" in raised.value.message


def test_invalid_yaml_and_non_mapping():
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric_text("urn: [unclosed")
    with pytest.raises(RubricError, match="YAML mapping"):
        load_rubric_text("- a list")


def test_available_rubrics_and_find(tmp_path, document):
    (tmp_path / "v1.yaml").write_text(RUBRIC_FILE.read_text())
    newer = copy.deepcopy(document)
    newer["version"] = "1.1.0"
    newer["tiers"][1]["min"] = 20
    (tmp_path / "v1.1.yaml").write_text(yaml.safe_dump(newer))
    rubrics = available_rubrics(tmp_path)
    assert [r.version for r in rubrics] == ["1.0.0", "1.1.0"]
    urn = "urn:govportal:rubric:mesa-optimization"
    assert find_rubric(rubrics, urn).version == "1.1.0"
    assert find_rubric(rubrics, f"{urn}@1.0.0").sha256 == RUBRIC_V1_SHA256
    with pytest.raises(RubricError, match="available"):
        find_rubric(rubrics, f"{urn}@2.0.0")


def test_same_version_with_different_content_is_refused(tmp_path, document):
    (tmp_path / "a.yaml").write_text(RUBRIC_FILE.read_text())
    document["tiers"][1]["min"] = 20
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(RubricError, match="different content"):
        available_rubrics(tmp_path)


def test_shipped_directory_lists_both_versions():
    assert [r.reference for r in available_rubrics()] == [
        "urn:govportal:rubric:mesa-optimization@1.0.0",
        "urn:govportal:rubric:mesa-optimization@1.1.0",
    ]


def test_1_0_0_file_is_unchanged_byte_for_byte():
    assert hashlib.sha256(RUBRIC_FILE.read_bytes()).hexdigest() == RUBRIC_V1_FILE_BYTES_SHA256


def test_1_1_0_is_1_0_0_with_the_precautionary_reading_only():
    v1, v11 = load_rubric(RUBRIC_FILE), load_rubric(RUBRIC_V11_FILE)
    assert v11.reference == "urn:govportal:rubric:mesa-optimization@1.1.0"
    assert v11.sha256 == sha256_hex(v11.content) == RUBRIC_V11_SHA256
    new = dict(v11.content)
    assert new.pop("missing_facts") == "precautionary"
    assert [part["title"] for part in new.pop("semantics")] == [
        "Precautionary reading of missing facts",
        "Missing evidence and coverage",
    ]
    templates = dict(new.pop("explanation_templates"))
    for key in PRECAUTIONARY_TEMPLATES:
        templates.pop(key)
    assert templates == v1.content["explanation_templates"]
    assert new.pop("version") == "1.1.0"
    old = {k: v for k, v in v1.content.items() if k not in ("version", "explanation_templates")}
    # Every criterion, band, weight, gate, tier boundary and coverage threshold.
    assert new == old


def test_1_1_0_states_its_principle_for_the_methodology():
    semantics = load_rubric(RUBRIC_V11_FILE).content["semantics"][0]["text"]
    assert semantics.startswith(
        "Wherever a missing fact would decide something, it decides toward higher risk."
    )


@pytest.fixture
def precautionary():
    return copy.deepcopy(load_rubric(RUBRIC_V11_FILE).content)


def test_missing_facts_takes_a_known_reading(precautionary):
    precautionary["missing_facts"] = "pessimistic"
    error = first_error(precautionary)
    assert error.path == "missing_facts"
    assert "precautionary" in error.message


def test_a_precautionary_rubric_words_its_explanations(precautionary):
    del precautionary["explanation_templates"]["signal_missing"]
    error = first_error(precautionary)
    assert error.path == "explanation_templates.signal_missing"
    assert "precautionary" in error.message


def test_a_precautionary_rubric_states_its_semantics(precautionary):
    del precautionary["semantics"]
    assert first_error(precautionary).path == "semantics"


def test_present_may_not_raise_a_level_in_a_precautionary_rubric(precautionary, document):
    # In applies_when, `present` would make withholding the fact lower the level.
    present = {"fact": "diagnostics[reward_hacking.rate]", "present": True}
    precautionary["criteria"][4]["applies_when"] = present
    error = first_error(precautionary)
    assert error.path == "criteria[4].applies_when.present"
    assert "negative delta" in error.message
    # Through a named condition, reported where the condition is defined.
    precautionary["criteria"][4]["applies_when"] = {"condition": "rl"}
    precautionary["conditions"]["rl"] = {"any": [{"condition": "general"}, present]}
    assert first_error(precautionary).path == "conditions.rl.any[1].present"
    # 1.0.0's reading ignores missing facts, so there it is allowed.
    document["criteria"][4]["applies_when"] = present
    assert rubric_errors(document) == []


def test_present_in_a_negative_adjustment_is_allowed(precautionary):
    # P1's "-1 when a goal_misgeneralization diagnostic is reported" is shipped as such.
    assert "present" in json.dumps(precautionary["criteria"][7]["adjustments"][0]["when"])
    assert rubric_errors(precautionary) == []
