"""A validated rubric's content read once into the plan the rest of the engine follows.

The generated scorer (scorer.py), the explanations (explain.py) and the diagnostic scales
(scales.py) all work from this plan, so they agree by construction on which signal reads
which fact, which condition is decided where, and which band function places a value.
Every condition the criteria use gets a *site*: its index in the tuple of three-valued
results the scorer returns, with the polarity that resolves UNKNOWN there
(conditions.py). Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audits.rubric.conditions import condition_facts
from audits.rubric.schema import PRECAUTIONARY
from audits.rubric.vocabulary import BOOLEAN, KNOWN_FACTS


def python_keys(mapping: Mapping[str, int], path: str) -> dict[Any, int]:
    """A map's levels keyed by the fact's Python values ("true" -> True for booleans)."""
    if KNOWN_FACTS[path].kind == BOOLEAN:
        return {key == "true": level for key, level in mapping.items()}
    return dict(mapping)


@dataclass(frozen=True)
class Site:
    """A place where a condition is decided, and which way UNKNOWN resolves there."""

    condition: Mapping[str, Any]
    positive: bool  # holding can only raise a level: UNKNOWN counts as holding


@dataclass(frozen=True)
class SignalPlan:
    path: str
    required: bool
    when: Mapping[str, Any] | None
    site: int | None  # the `when` condition's site
    levels: Mapping[Any, int] | None  # a map, keyed by the fact's Python values
    bands: tuple[Mapping[str, Any], ...]  # or bands (ascending)
    band: int | None  # index of the band function that places a value (bands only)
    highest: int  # the highest level it gives: how a precautionary rubric reads it missing


@dataclass(frozen=True)
class AdjustmentPlan:
    # A map of deltas by a fact's value ...
    path: str | None
    deltas: Mapping[Any, int] | None
    largest: int  # the largest delta: how a precautionary rubric reads the fact missing
    # ... or a delta applied when a condition holds.
    when: Mapping[str, Any] | None
    site: int | None
    delta: int
    text: str


@dataclass(frozen=True)
class RequirementPlan:
    """Evidence the criterion needs: at least one of `paths`, when the site's condition holds."""

    paths: tuple[str, ...]
    site: int | None


@dataclass(frozen=True)
class CriterionPlan:
    index: int
    id: str
    name: str
    category: str
    weight: int | float
    max_level: int
    missing_level: int
    rationale: str
    reference: str
    applies: Mapping[str, Any] | None
    applies_text: str
    applies_site: int | None
    signals: tuple[SignalPlan, ...]
    adjustments: tuple[AdjustmentPlan, ...]
    requirements: tuple[RequirementPlan, ...]

    @property
    def sites(self) -> tuple[int, ...]:
        """Every site of this criterion, the applicability condition's first."""
        found = [self.applies_site] if self.applies_site is not None else []
        found += [signal.site for signal in self.signals if signal.site is not None]
        found += [part.site for part in self.adjustments if part.site is not None]
        found += [group.site for group in self.requirements if group.site is not None]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class GatePlan:
    index: int
    id: str
    name: str
    min_tier: str
    when: Mapping[str, Any]


class RubricPlan:
    """Criteria, gates, condition sites, band functions and facts of one validated rubric."""

    def __init__(self, content: Mapping[str, Any]) -> None:
        self.precautionary: bool = content.get("missing_facts") == PRECAUTIONARY
        self.conditions: Mapping[str, Any] = content.get("conditions") or {}
        self.sites: list[Site] = []
        self.banded: list[SignalPlan] = []
        self.criteria = tuple(
            self._criterion(index, spec) for index, spec in enumerate(content["criteria"])
        )
        self.gates = tuple(
            GatePlan(index, gate["id"], gate["name"], gate["min_tier"], gate["when"])
            for index, gate in enumerate(content["gates"])
        )
        self.fact_paths = self._fact_paths()

    def _site(self, condition: Mapping[str, Any] | None, *, positive: bool) -> int | None:
        if condition is None:
            return None
        self.sites.append(Site(condition, positive))
        return len(self.sites) - 1

    def _criterion(self, index: int, spec: Mapping[str, Any]) -> CriterionPlan:
        applies = spec.get("applies_when")
        applies_site = self._site(applies, positive=True)
        signals = tuple(self._signal(signal) for signal in spec["signals"])
        adjustments = tuple(self._adjustment(part) for part in spec.get("adjustments", ()))
        requirements = [
            RequirementPlan((signal.path,), signal.site) for signal in signals if signal.required
        ]
        requirements += [
            RequirementPlan((part["fact"],), None)
            for part in spec.get("adjustments", ())
            if part.get("required")
        ]
        requirements += [
            RequirementPlan(tuple(group["facts"]), self._site(group.get("when"), positive=True))
            for group in spec.get("requires_any", ())
        ]
        return CriterionPlan(
            index=index,
            id=spec["id"],
            name=spec["name"],
            category=spec["category"],
            weight=spec["weight"],
            max_level=spec["max_level"],
            missing_level=spec["missing_level"],
            rationale=spec["rationale"],
            reference=spec["reference"],
            applies=applies,
            applies_text=spec.get("applies_text", ""),
            applies_site=applies_site,
            signals=signals,
            adjustments=adjustments,
            requirements=tuple(requirements),
        )

    def _signal(self, spec: Mapping[str, Any]) -> SignalPlan:
        path = spec["fact"]
        when = spec.get("when")
        site = self._site(when, positive=True)
        if "map" in spec:
            levels = python_keys(spec["map"], path)
            return SignalPlan(
                path, bool(spec.get("required")), when, site, levels, (), None, max(levels.values())
            )
        bands = tuple(spec["bands"])
        signal = SignalPlan(
            path,
            bool(spec.get("required")),
            when,
            site,
            None,
            bands,
            len(self.banded),
            max(int(band["level"]) for band in bands),
        )
        self.banded.append(signal)
        return signal

    def _adjustment(self, spec: Mapping[str, Any]) -> AdjustmentPlan:
        if "map" in spec:
            deltas = python_keys(spec["map"], spec["fact"])
            return AdjustmentPlan(spec["fact"], deltas, max(deltas.values()), None, None, 0, "")
        delta = int(spec["delta"])
        site = self._site(spec["when"], positive=delta > 0)
        return AdjustmentPlan(None, None, 0, spec["when"], site, delta, spec["text"])

    def _fact_paths(self) -> tuple[str, ...]:
        paths: list[str] = []
        for site in self.sites:
            paths.extend(condition_facts(site.condition, self.conditions))
        for criterion in self.criteria:
            paths.extend(signal.path for signal in criterion.signals)
            paths.extend(part.path for part in criterion.adjustments if part.path is not None)
            for group in criterion.requirements:
                paths.extend(group.paths)
        for gate in self.gates:
            paths.extend(condition_facts(gate.when, self.conditions))
        return tuple(dict.fromkeys(paths))
