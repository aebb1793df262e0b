"""Shared pieces for the rubric engine tests: the rubric, filings, a calm baseline.

Kept out of conftest.py on purpose: these tests must run without Django
(`pytest tests/audits/rubric -p no:django --noconftest`).
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from audits.rubric import CompiledRubric, compile_rubric, load_rubric
from audits.rubric.loader import RUBRICS_DIRECTORY

RUBRIC_FILE = RUBRICS_DIRECTORY / "mesa-optimization-1.0.0.yaml"
RUBRIC_V11_FILE = RUBRICS_DIRECTORY / "mesa-optimization-1.1.0.yaml"
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


class _FilingLoader(yaml.SafeLoader):
    """YAML 1.2 numbers (`3.4e10`) and dates kept as text, as the intake delivers facts."""


_FilingLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FilingLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)


def load_filing(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_FilingLoader)


@functools.cache
def rubric_v1() -> CompiledRubric:
    return compile_rubric(load_rubric(RUBRIC_FILE))


@functools.cache
def rubric_v11() -> CompiledRubric:
    """1.1.0: 1.0.0's criteria with the precautionary reading of missing facts."""
    return compile_rubric(load_rubric(RUBRIC_V11_FILE))


# Every shipped version, for tests of what both must keep.
VERSIONS = {"1.0.0": rubric_v1, "1.1.0": rubric_v11}


# The least risky value of every fact, and every catalogue diagnostic at its least risky
# value, for a general-purpose model trained with RLHF and RL: every criterion applies and
# no evidence is missing. Its levels (computed by hand in test_whole_filings.py) are all 0
# except E1 = 2 (scope general_purpose) and E6 = 1 (rlhf).
CALM_FACTS: dict[str, Any] = {
    "model": {
        "name": "Calm",
        "version": "1",
        "developer": "Lab",
        "parameters": 1.0e7,
        "scope": "general_purpose",
    },
    "training": {
        "compute_flop": 1.0e19,
        "objectives": ["self_supervised", "rlhf", "rl_verifiable_rewards"],
        "task_families": 1,
        "environment_diversity": "narrow",
        "rl_horizon_steps": 0,
        "human_data": False,
        "simplicity_pressure": "none",
        "time_penalty": "strict",
        "hard_coded_search": True,
        "adversarial_training": True,
        "online_learning": False,
    },
    "deployment": {
        "statefulness": "none",
        "context_window_tokens": 1000,
        "tool_use": True,
        "autonomy": "assistive",
        "training_deployment_gap": "low",
        "influences_own_training": False,
        "human_oversight": "continuous",
    },
    "transparency": {
        "interpretability_access": "weights",
        "internals_audit": True,
        "reasoning_visibility": "full",
    },
    "diagnostics": [
        {"metric": "goal_misgeneralization.proxy_pursuit_rate", "value": 0.0},
        {"metric": "goal_misgeneralization.ood_capability_retention", "value": 0.0},
        {"metric": "situational_awareness.sad_score", "value": 0.0},
        {"metric": "situational_awareness.stages_oversight", "value": 0.0},
        {"metric": "eval_awareness.rate", "value": 0.0},
        {"metric": "deception.backdoor_persistence_rate", "value": 0.0},
        {"metric": "deception.defection_probe_auroc", "value": 1.0},
        {"metric": "alignment_faking.compliance_gap", "value": 0.0},
        {"metric": "alignment_faking.reasoning_rate", "value": 0.0},
        {"metric": "scheming.in_context_rate", "value": 0.0},
        {"metric": "scheming.confession_rate", "value": 1.0},
        {"metric": "sandbagging.accuracy_drop", "value": 0.0},
        {"metric": "reward_hacking.rate", "value": 0.0},
        {"metric": "planning.lookahead_probe_accuracy", "value": 0.0},
        {"metric": "planning.lookahead_steps", "value": 0},
    ],
}

WITHHELD = object()  # an override value that removes the fact


def with_facts(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with dotted paths / `diagnostics[<metric>]` set (or WITHHELD)."""
    facts = copy.deepcopy(base)
    for path, value in overrides.items():
        if path.startswith("diagnostics["):
            metric = path[len("diagnostics[") : -1]
            diagnostics = [d for d in facts.setdefault("diagnostics", []) if d["metric"] != metric]
            if value is not WITHHELD:
                diagnostics.append({"metric": metric, "value": value})
            facts["diagnostics"] = diagnostics
        else:
            section, _, key = path.partition(".")
            block = facts.setdefault(section, {})
            if value is WITHHELD:
                block.pop(key, None)
            else:
                block[key] = value
    return facts


def calm(**_: Any) -> dict[str, Any]:
    return copy.deepcopy(CALM_FACTS)


def levels_of(facts: dict[str, Any]) -> dict[str, int]:
    return rubric_v1().assess(facts).levels


def criterion(facts: dict[str, Any], criterion_id: str, rubric: Any = None) -> Any:
    result = (rubric or rubric_v1()).assess(facts)
    return next(c for c in result.criteria if c.id == criterion_id)
