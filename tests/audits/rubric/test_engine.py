"""Engine behaviour around the scores: provenance, bad facts, caching, diffs, purity."""

import ast
import copy
from pathlib import Path

import pytest

from audits.rubric import FactsError, assess, diff_assessments, load_rubric
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
