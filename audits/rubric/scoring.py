"""The exact arithmetic of a rubric: weights as integer coefficients, tiers as integer tests.

Category score = 100 × Σ(weight × level / max) / Σ weight; overall = Σ(category weight ×
category score). Every criterion gets an integer coefficient over a per-category
denominator and every category an integer share of one overall denominator, so each score
is an exact fraction and a score exactly on a tier threshold gets the higher tier (R1).
The generated scorer's `settle` (scorer.py) evaluates these numbers; this module only
derives them from the rubric. Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

from audits.rubric.plan import CriterionPlan


def exact(number: int | float) -> Fraction:
    """The decimal the regulator wrote (0.3), not the binary float nearest to it."""
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def round_half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator/denominator (non-negative) rounded half up, computed on integers.

    Python's round() on a float rounds half to even on a binary approximation, so 40.805
    could print either way; the exact rational value decides here.
    """
    scale = 10**places
    return ((2 * numerator * scale + denominator) // (2 * denominator)) / scale


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    weight: float
    denominator: int  # the category score is numerator / denominator
    share: int  # its weight, as a multiple of 1 / ScoreArithmetic.overall_denominator
    coefficients: Mapping[int, int]  # criterion index -> coefficient of its level


class ScoreArithmetic:
    """Integer coefficients, shares, tier thresholds and coverage weights of one rubric."""

    def __init__(self, content: Mapping[str, Any], criteria: Sequence[CriterionPlan]) -> None:
        drafts = []
        for category in content["categories"]:
            members = [c for c in criteria if c.category == category["id"]]
            total = sum((exact(member.weight) for member in members), Fraction(0))
            fractions = {
                member.index: 100 * exact(member.weight) / member.max_level / total
                for member in members
            }
            denominator = lcm(*(value.denominator for value in fractions.values()))
            coefficients = {index: int(value * denominator) for index, value in fractions.items()}
            drafts.append((category, denominator, coefficients))
        shares = [exact(category["weight"]) / denominator for category, denominator, _ in drafts]
        self.overall_denominator = lcm(*(share.denominator for share in shares))
        self.categories = tuple(
            Category(
                category["id"],
                category["title"],
                category["weight"],
                denominator,
                int(share * self.overall_denominator),
                coefficients,
            )
            for (category, denominator, coefficients), share in zip(drafts, shares, strict=True)
        )
        self.tier_ids = tuple(tier["id"] for tier in content["tiers"])
        # A tier is reached when numerator / D >= min, i.e. numerator × min.den >= min.num × D.
        self.tier_thresholds = tuple(
            (
                exact(tier["min"]).denominator,
                exact(tier["min"]).numerator * self.overall_denominator,
            )
            for tier in content["tiers"]
        )
        weight_scale = lcm(*(exact(c.weight).denominator for c in criteria))
        self.coverage_weights = tuple(int(exact(c.weight) * weight_scale) for c in criteria)
        threshold = exact(content["coverage"]["insufficient_below"])
        self.insufficient_below = (threshold.numerator, threshold.denominator)

    def coverage(
        self, applicability: Sequence[int], missing: Sequence[bool]
    ) -> tuple[int, int, bool]:
        """(covered weight, applicable weight, insufficient evidence?), exact.

        Coverage = weight of applicable criteria without missing evidence / weight of all
        applicable ones, 1.0 when none applies. A criterion applicable because its
        applicability was undecided has missing evidence, so it counts against coverage.
        """
        covered = applicable = 0
        for weight, state, lacking in zip(
            self.coverage_weights, applicability, missing, strict=True
        ):
            if state:
                applicable += weight
                if not lacking:
                    covered += weight
        if applicable == 0:
            covered = applicable = 1
        below_numerator, below_denominator = self.insufficient_below
        return covered, applicable, covered * below_denominator < below_numerator * applicable
