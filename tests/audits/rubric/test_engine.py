"""Engine behaviour around the scores: provenance, bad facts, caching, diffs, purity."""

import ast
import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.canonical import sha256_hex
from audits.rubric import FactsError, assess, compile_rubric, diff_assessments, load_rubric
from audits.rubric.engine import facts_sha256
from audits.rubric.explain import format_value
from tests.audits.rubric.helpers import (
    CALM_FACTS,
    EXAMPLES,
    RUBRIC_FILE,
    load_filing,
    rubric_v1,
    with_facts,
)


def test_sources_come_from_provenance_then_the_diagnostic():
    facts = with_facts(CALM_FACTS, {})
    facts["diagnostics"][2]["source"] = "sad-run.json"  # situational_awareness.sad_score
    provenance = {
        "training.environment_diversity": {
            "file": "filing.yaml",
            "line": 14,
            "field": "training.environment_diversity",
        },
        "model.scope": {"file": "card.md", "line": None, "field": "govportal.model.scope"},
    }
    result = rubric_v1().assess(facts, provenance).to_dict()
    criteria = {c["id"]: c for c in result["criteria"]}
    sources = {f["path"]: f["source"] for f in criteria["E1"]["facts"]}
    assert sources == {
        "training.environment_diversity": (
            "filing.yaml, line 14, field training.environment_diversity"
        ),
        "training.task_families": "",
        "model.scope": "card.md, field govportal.model.scope",
    }
    assert criteria["D2"]["facts"] == [
        {
            "path": "diagnostics[situational_awareness.sad_score]",
            "value": 0.0,
            "source": "sad-run.json",
        }
    ]


def test_first_diagnostic_of_a_metric_wins():
    facts = with_facts(CALM_FACTS, {"diagnostics[reward_hacking.rate]": 0.3})
    facts["diagnostics"].insert(0, {"metric": "reward_hacking.rate", "value": 0.0})
    p3 = next(c for c in rubric_v1().assess(facts).criteria if c.id == "P3")
    assert p3.level == 0


def test_uncatalogued_diagnostics_are_not_scored():
    # R2: a made-up goal_misgeneralization id does not earn P1's -1.
    facts = with_facts(
        CALM_FACTS,
        {
            "diagnostics[goal_misgeneralization.proxy_pursuit_rate]": None,
            "training.environment_diversity": "moderate",
        },
    )
    facts["diagnostics"] = [
        d for d in facts["diagnostics"] if not d["metric"].startswith("goal_misgeneralization")
    ]
    facts["diagnostics"].append({"metric": "goal_misgeneralization.custom", "value": 0.0})
    p1 = next(c for c in rubric_v1().assess(facts).criteria if c.id == "P1")
    assert p1.level == 2


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"model.scope": "general"}, "model.scope"),
        ({"model.parameters": "7e9"}, "model.parameters"),
        ({"training.human_data": "yes"}, "training.human_data"),
        ({"training.objectives": ["rlhf", "dpo"]}, "training.objectives"),
        ({"diagnostics[reward_hacking.rate]": "high"}, "diagnostics[reward_hacking.rate]"),
    ],
)
def test_values_outside_the_filing_schema_are_refused(overrides, path):
    with pytest.raises(FactsError) as raised:
        rubric_v1().assess(with_facts(CALM_FACTS, overrides))
    assert raised.value.path == path


def test_non_finite_numbers_are_refused():
    with pytest.raises(FactsError, match="finite"):
        rubric_v1().assess(with_facts(CALM_FACTS, {"model.parameters": float("inf")}))


def test_none_is_missing():
    facts = with_facts(CALM_FACTS, {"model.parameters": None})
    e2 = next(c for c in rubric_v1().assess(facts).criteria if c.id == "E2")
    assert e2.missing_evidence and e2.missing_facts == ["model.parameters"]


def test_assess_does_not_modify_facts_and_is_deterministic():
    facts = load_filing(EXAMPLES / "coding-agent.filing.yaml")
    before = copy.deepcopy(facts)
    rubric = load_rubric(RUBRIC_FILE)
    first = assess(rubric, facts).to_dict()
    assert facts == before
    assert assess(rubric, facts).to_dict() == first
    assert rubric_v1().assess(facts).to_dict() == first


def test_diff_assessments_reports_tier_score_gates_and_levels():
    rubric = rubric_v1()
    old = rubric.assess(CALM_FACTS).to_dict()
    new = rubric.assess(
        with_facts(
            CALM_FACTS,
            {
                "deployment.autonomy": "autonomous_agent",
                "transparency.interpretability_access": "none",
            },
        )
    ).to_dict()
    diff = diff_assessments(old, new)
    assert diff["tier"] == {"old": "low", "new": "moderate", "changed": True}
    assert diff["overall_score"] == {"old": 5.38, "new": 10.38, "change": 5.0}
    assert diff["gates"] == {"added": ["G4"], "removed": []}
    assert diff["criteria"] == [
        {"id": "T1", "name": "interpretability_access", "old_level": 0, "new_level": 3},
        {"id": "T4", "name": "oversight_autonomy", "old_level": 0, "new_level": 1},
    ]
    assert (
        diff["rubric"]["old"]
        == diff["rubric"]["new"]
        == ("urn:govportal:rubric:mesa-optimization@1.0.0")
    )
    assert diff_assessments(old, old)["criteria"] == []


def test_rubric_package_imports_nothing_from_django():
    package = Path(__file__).resolve().parents[3] / "audits" / "rubric"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("django", "rest_framework", "audits.models")), (
                    f"{module.name} imports {name}"
                )


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6))
def test_facts_hash_is_the_canonical_hash(document):
    assert facts_sha256(document) == sha256_hex(document)


def test_facts_hash_of_the_examples_is_the_canonical_hash():
    for name in ("coding-agent", "household-robot"):
        facts = load_filing(EXAMPLES / f"{name}.filing.yaml")
        facts["model"]["name"] = "Modèle à l’essai ✓"  # non-ASCII stays UTF-8
        assert facts_sha256(facts) == sha256_hex(facts)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (34000000000.0, "3.4e10"),
        (3e24, "3.0e24"),
        (1_000_000, "1.0e6"),
        (123456789, "1.23456789e8"),
        (1.2345e17, "1.2345e17"),
        (-2.5e7, "-2.5e7"),
        (999999, "999999"),
        (32000.0, "32000.0"),
        (800, "800"),
        (0.07, "0.07"),
        (0.0, "0.0"),
        (True, "true"),
        (["rlhf", "rl_environment"], "[rlhf, rl_environment]"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_large_numbers_read_in_scientific_notation_in_explanations():
    facts = with_facts(
        CALM_FACTS, {"model.parameters": 34000000000.0, "training.compute_flop": 3e24}
    )
    e2 = next(c for c in rubric_v1().assess(facts).criteria if c.id == "E2")
    assert e2.explanation == (
        "Level 2: model.parameters is 3.4e10 (2); training.compute_flop is 3.0e24 (2)."
    )
    assert [fact.value for fact in e2.facts] == [34000000000.0, 3e24]  # values as filed


def test_criteria_are_written_once_on_first_read():
    result = rubric_v1().assess(CALM_FACTS)
    assert result.levels["E1"] == 2
    first = result.criteria
    assert result.criteria is first
    assert [c.level for c in first] == list(result.levels.values())


def test_explanations_print_the_scorers_decisions_and_decide_nothing():
    # The explanation functions read the scorer's levels and condition results; they do not
    # evaluate the rubric again. A scorer saying E1 is 3 is printed as 3.
    compiled = compile_rubric(load_rubric(RUBRIC_FILE))
    real_criteria = compiled.scorer.criteria

    def e1_at_three(values):
        levels, *rest = real_criteria(values)
        return ((3, *levels[1:]), *rest)

    compiled.scorer.criteria = e1_at_three
    result = compiled.assess(CALM_FACTS)
    e1 = result.to_dict()["criteria"][0]
    assert e1["level"] == 3
    assert e1["explanation"].startswith("Level 3: ")
    assert result.levels["E1"] == 3


def test_scorer_source_is_kept_for_reading():
    source = rubric_v1().scorer_source
    compile(source, "<rubric scorer>", "exec")
    assert "# D5 scheming_sandbagging" in source
    assert "gate_G5 = (gate_G1 and gate_G2)" in source
    assert "def explain(" in rubric_v1().explainers.source


def test_a_section_that_is_not_a_mapping_is_refused():
    facts = with_facts(CALM_FACTS, {})
    facts["training"] = ["rlhf"]
    with pytest.raises(FactsError, match="expected a mapping of facts") as raised:
        rubric_v1().assess(facts)
    assert raised.value.path == "training"


def test_the_first_diagnostic_of_a_metric_wins_even_without_a_value():
    facts = with_facts(CALM_FACTS, {"diagnostics[reward_hacking.rate]": 0.3})
    facts["diagnostics"].insert(0, {"metric": "reward_hacking.rate", "value": None})
    p3 = next(c for c in rubric_v1().assess(facts).criteria if c.id == "P3")
    assert p3.missing_evidence and p3.level == 2
