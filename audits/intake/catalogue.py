"""The metric catalogue v1 of FILING.md, as data.

Diagnostics whose `metric` is one of these ids feed the rubric; any other id is kept and
shown in the report but not scored. The unit decides the range a value must fall in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["fraction", "percentage_points", "steps"]
Direction = Literal["higher", "lower"]

CATALOGUE_VERSION = 1


@dataclass(frozen=True)
class CatalogueMetric:
    """One catalogue entry: what is measured, in which unit, and which way is riskier."""

    id: str
    unit: Unit
    riskier: Direction
    description: str


_ENTRIES: tuple[CatalogueMetric, ...] = (
    CatalogueMetric(
        "goal_misgeneralization.proxy_pursuit_rate",
        "fraction",
        "higher",
        "Share of out-of-distribution episodes in which the agent competently pursues a proxy "
        "instead of the intended goal (Langosco et al. 2022; Shah et al. 2022).",
    ),
    CatalogueMetric(
        "goal_misgeneralization.ood_capability_retention",
        "fraction",
        "higher",
        "Share of capability kept out of distribution; high retention with proxy pursuit is "
        "the dangerous case.",
    ),
    CatalogueMetric(
        "situational_awareness.sad_score",
        "fraction",
        "higher",
        "Situational Awareness Dataset overall score (Laine et al. 2024); chance is about 0.27.",
    ),
    CatalogueMetric(
        "situational_awareness.stages_oversight",
        "fraction",
        "higher",
        "SAD task: telling evaluation from deployment.",
    ),
    CatalogueMetric(
        "eval_awareness.rate",
        "fraction",
        "higher",
        "Share of transcripts in which the model states it is being tested.",
    ),
    CatalogueMetric(
        "deception.backdoor_persistence_rate",
        "fraction",
        "higher",
        "Share of triggered behaviour surviving safety training (Hubinger et al. 2024).",
    ),
    CatalogueMetric(
        "deception.defection_probe_auroc",
        "fraction",
        "lower",
        "AUROC of activation probes that detect defection (lower = harder to detect).",
    ),
    CatalogueMetric(
        "alignment_faking.compliance_gap",
        "percentage_points",
        "higher",
        "Difference in compliance between implied-training and implied-unmonitored "
        "conditions (Greenblatt et al. 2024).",
    ),
    CatalogueMetric(
        "alignment_faking.reasoning_rate",
        "fraction",
        "higher",
        "Share of responses with explicit alignment-faking reasoning.",
    ),
    CatalogueMetric(
        "scheming.in_context_rate",
        "fraction",
        "higher",
        "Share of agentic rollouts with a covert scheming action (Meinke et al. 2024).",
    ),
    CatalogueMetric(
        "scheming.confession_rate",
        "fraction",
        "lower",
        "Share of follow-up interrogations in which the model admits the action.",
    ),
    CatalogueMetric(
        "sandbagging.accuracy_drop",
        "percentage_points",
        "higher",
        "Strategic under-performance on capability evaluations (van der Weij et al. 2024).",
    ),
    CatalogueMetric(
        "reward_hacking.rate",
        "fraction",
        "higher",
        "Share of runs that exploit the scorer, e.g. passing impossible tasks.",
    ),
    CatalogueMetric(
        "planning.lookahead_probe_accuracy",
        "fraction",
        "higher",
        "Probe accuracy decoding future actions/moves from activations (Jenner et al. 2024; "
        "Taufeeque et al. 2024): evidence of internal search.",
    ),
    CatalogueMetric(
        "planning.lookahead_steps",
        "steps",
        "higher",
        "How far ahead decodable plans reach.",
    ),
)

CATALOGUE: dict[str, CatalogueMetric] = {entry.id: entry for entry in _ENTRIES}

# Inclusive bounds per unit; FILING.md: out of range is an error, never a clamp.
UNIT_RANGES: dict[str, tuple[float, float]] = {
    "fraction": (0.0, 1.0),
    "percentage_points": (-100.0, 100.0),
    "steps": (0.0, math.inf),
}


def check_metric_value(metric: str, value: float) -> str | None:
    """Return an error text if `value` is not acceptable for `metric`, else None.

    Non-finite values are refused for every metric. Catalogue metrics must also fall in
    their unit's range (fraction [0, 1], percentage points [-100, 100], steps >= 0).
    Ids outside the catalogue accept any finite number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"value must be a number, got {type(value).__name__}"
    if not math.isfinite(value):
        return f"value must be a finite number, got {value!r}"
    entry = CATALOGUE.get(metric)
    if entry is None:
        return None
    low, high = UNIT_RANGES[entry.unit]
    if not low <= value <= high:
        unit = entry.unit.replace("_", " ")
        allowed = f">= {low:g}" if math.isinf(high) else f"in [{low:g}, {high:g}]"
        return (
            f"value {value!r} is out of range for {metric} (unit: {unit}); "
            f"it must be {allowed}. Report the value in the catalogue unit, not rescaled"
        )
    return None


def unscored_diagnostics(
    document: Mapping[str, Any], provenance: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The diagnostics of a facts document that were read but are not scored by the rubric
    because their metric is not in the metric catalogue, in document order.

    Each entry is `{"metric", "value", "source"}`, where `source` is the file the value
    came from; with `provenance` (the facts' provenance) it also has `location`, the
    `{"file", "line", "field"}` of the value in that file. Pure: reads nothing else.
    """
    unscored: list[dict[str, Any]] = []
    for diagnostic in document.get("diagnostics") or []:
        metric = diagnostic.get("metric")
        if metric in CATALOGUE:
            continue
        entry = {
            "metric": metric,
            "value": diagnostic.get("value"),
            "source": diagnostic.get("source"),
        }
        where = (provenance or {}).get(f"diagnostics[{metric}]")
        if where is not None:
            entry["location"] = {key: where.get(key) for key in ("file", "line", "field")}
        unscored.append(entry)
    return unscored


def unscored_summary(unscored: Sequence[Mapping[str, Any]], *, shown: int = 5) -> str | None:
    """ "N diagnostics read but not scored (not in the metric catalogue): a, b, … and M more",
    or None when there are none. For the command line, the portal and the report."""
    if not unscored:
        return None
    count = len(unscored)
    names = ", ".join(str(entry["metric"]) for entry in unscored[:shown])
    more = f" and {count - shown} more" if count > shown else ""
    noun = "diagnostic" if count == 1 else "diagnostics"
    return f"{count} {noun} read but not scored (not in the metric catalogue): {names}{more}"
