"""What an assessment gives: result objects, their stored form, the evidence gaps, diffs.

`AssessmentResult.to_dict()` is the form the portal stores, the API returns and the report
embeds; every key of an earlier engine version is kept, new keys are added. Pure Python:
nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from audits.rubric.scoring import Category, round_half_up


class UsedFact(NamedTuple):
    """A fact a criterion read, with where it came from."""

    path: str
    value: Any
    source: str


@dataclass(slots=True)
class CriterionResult:
    id: str
    name: str
    category: str
    level: int
    max_level: int
    weight: int | float
    applicable: bool  # True also when applicability was undecided (read as applicable)
    applicability: str  # "applicable", "not_applicable" or "undecided"
    missing_evidence: bool
    missing_facts: list[str]
    precautionary_facts: list[str]  # missing facts read toward higher risk
    explanation: str
    rationale: str
    reference: str
    facts: list[UsedFact]
    to_resolve: str | None

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> CriterionResult:
        return cls(
            **{
                **stored,
                "facts": [
                    UsedFact(fact["path"], fact["value"], fact["source"])
                    for fact in stored["facts"]
                ],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "level": self.level,
            "max_level": self.max_level,
            "weight": self.weight,
            "applicable": self.applicable,
            "applicability": self.applicability,
            "missing_evidence": self.missing_evidence,
            "missing_facts": list(self.missing_facts),
            "precautionary_facts": list(self.precautionary_facts),
            "explanation": self.explanation,
            "rationale": self.rationale,
            "reference": self.reference,
            "facts": [
                {"path": fact.path, "value": fact.value, "source": fact.source}
                for fact in self.facts
            ],
            "to_resolve": self.to_resolve,
        }


@dataclass(slots=True)
class CategoryResult:
    id: str
    title: str
    weight: float
    score: float
    # The exact score is numerator / denominator; kept to round half up without float error.
    score_numerator: int = field(repr=False)
    score_denominator: int = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "weight": self.weight,
            "score": round_half_up(self.score_numerator, self.score_denominator, 2),
        }


@dataclass(slots=True)
class GateResult:
    id: str
    name: str
    min_tier: str
    # Missing facts that made the gate hold under a precautionary rubric; [] when the facts
    # supplied decided it.
    precautionary_facts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "min_tier": self.min_tier,
            "precautionary_facts": list(self.precautionary_facts),
        }


def category_results(
    categories: Sequence[Category], numerators: Sequence[int]
) -> list[CategoryResult]:
    """Each category's score from its exact numerator (scoring.py)."""
    return [
        CategoryResult(
            category.id,
            category.title,
            category.weight,
            numerator / category.denominator,
            numerator,
            category.denominator,
        )
        for category, numerator in zip(categories, numerators, strict=True)
    ]


def evidence_gaps(criteria: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The one summary of what is missing that every page, the API and the report read.

    `criteria`: each criterion with missing evidence (rubric order) with the facts it lacks
    and what to supply; `missing_facts`: every fact missing from any of them, once, in
    rubric order; `count`: how many criteria lack evidence. A criterion is listed exactly
    when it counts against coverage.
    """
    listed = []
    facts: dict[str, None] = {}
    for criterion in criteria:
        if criterion["missing_evidence"]:
            missing = criterion["missing_facts"]
            listed.append(
                {
                    "id": criterion["id"],
                    "name": criterion["name"],
                    "missing_facts": missing[:],
                    "to_resolve": criterion["to_resolve"],
                }
            )
            for path in missing:
                facts[path] = None
    return {"count": len(listed), "criteria": listed, "missing_facts": list(facts)}


@dataclass(slots=True)
class AssessmentResult:
    """One assessment. `to_dict()` is the stored and printed form."""

    rubric_urn: str
    rubric_version: str
    rubric_sha256: str
    engine_version: str
    facts_sha256: str
    missing_facts_reading: str  # "ignored" (1.0.0) or "precautionary" (1.1.0)
    overall_score: float  # unrounded; to_dict() rounds to 2 decimals
    tier: str
    tier_before_gates: str
    coverage: float  # unrounded; to_dict() rounds to 3 decimals
    insufficient_evidence: bool
    gates: list[GateResult]  # the gates that fired
    category_scales: Sequence[Category] = field(repr=False)
    category_numerators: tuple[int, ...] = field(repr=False)
    overall_numerator: int = field(repr=False)
    overall_denominator: int = field(repr=False)
    coverage_numerator: int = field(repr=False)
    coverage_denominator: int = field(repr=False)
    criterion_ids: tuple[str, ...] = field(repr=False)
    criterion_levels: tuple[int, ...] = field(repr=False)
    # Writes the criteria's stored form (explanations, used facts) when called.
    explain_criteria: Callable[[], list[dict[str, Any]]] = field(repr=False, compare=False)
    _criteria: list[CriterionResult] | None = field(default=None, repr=False, compare=False)
    _categories: list[CategoryResult] | None = field(default=None, repr=False, compare=False)

    @property
    def categories(self) -> list[CategoryResult]:
        """Every category's score, in rubric order."""
        if self._categories is None:
            self._categories = category_results(self.category_scales, self.category_numerators)
        return self._categories

    @property
    def criteria(self) -> list[CriterionResult]:
        """Every criterion's result, in rubric order (written on first access)."""
        if self._criteria is None:
            self._criteria = [CriterionResult.from_dict(c) for c in self.explain_criteria()]
        return self._criteria

    @property
    def levels(self) -> dict[str, int]:
        return dict(zip(self.criterion_ids, self.criterion_levels, strict=True))

    @property
    def evidence_gaps(self) -> dict[str, Any]:
        return evidence_gaps([criterion.to_dict() for criterion in self.criteria])

    def to_dict(self) -> dict[str, Any]:
        criteria = self.explain_criteria()
        return {
            "rubric": {
                "urn": self.rubric_urn,
                "version": self.rubric_version,
                "sha256": self.rubric_sha256,
            },
            "engine_version": self.engine_version,
            "facts_sha256": self.facts_sha256,
            "missing_facts_reading": self.missing_facts_reading,
            "overall_score": round_half_up(self.overall_numerator, self.overall_denominator, 2),
            "tier": self.tier,
            "tier_before_gates": self.tier_before_gates,
            "coverage": round_half_up(self.coverage_numerator, self.coverage_denominator, 3),
            "insufficient_evidence": self.insufficient_evidence,
            "evidence_gaps": evidence_gaps(criteria),
            "categories": [category.to_dict() for category in self.categories],
            "criteria": criteria,
            "gates": [gate.to_dict() for gate in self.gates],
        }


def diff_assessments(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two stored assessments (`AssessmentResult.to_dict()` forms).

    Used by `manage.py rescore`: the tier change, the score change, the gates that started
    or stopped firing, and every criterion whose level changed (in the new rubric's order,
    then criteria only the old one had).
    """
    old_levels = {criterion["id"]: criterion for criterion in old.get("criteria", [])}
    new_levels = {criterion["id"]: criterion for criterion in new.get("criteria", [])}
    changed = []
    for criterion_id in [*new_levels, *(key for key in old_levels if key not in new_levels)]:
        before = old_levels.get(criterion_id)
        after = new_levels.get(criterion_id)
        old_level = before["level"] if before else None
        new_level = after["level"] if after else None
        if old_level != new_level:
            changed.append(
                {
                    "id": criterion_id,
                    "name": (after or before or {}).get("name"),
                    "old_level": old_level,
                    "new_level": new_level,
                }
            )
    old_gates = [gate["id"] for gate in old.get("gates", [])]
    new_gates = [gate["id"] for gate in new.get("gates", [])]
    old_score = old.get("overall_score")
    new_score = new.get("overall_score")
    return {
        "rubric": {
            "old": _rubric_reference(old),
            "new": _rubric_reference(new),
        },
        "tier": {
            "old": old.get("tier"),
            "new": new.get("tier"),
            "changed": old.get("tier") != new.get("tier"),
        },
        "overall_score": {
            "old": old_score,
            "new": new_score,
            "change": (
                round(new_score - old_score, 2)
                if old_score is not None and new_score is not None
                else None
            ),
        },
        "gates": {
            "added": [gate for gate in new_gates if gate not in old_gates],
            "removed": [gate for gate in old_gates if gate not in new_gates],
        },
        "criteria": changed,
    }


def _rubric_reference(assessment: Mapping[str, Any]) -> str | None:
    rubric = assessment.get("rubric") or {}
    if not rubric:
        return None
    return f"{rubric.get('urn')}@{rubric.get('version')}"
