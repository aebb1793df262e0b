"""The rubric engine: compile a rubric once, then assess facts documents quickly.

`compile_rubric` reads a validated rubric into a plan (plan.py), derives its exact
arithmetic (scoring.py) and generates its scoring functions (scorer.py). An assessment is
then four steps, each done once:

1. `read`: the facts the rubric reads, checked against the filing schema;
2. `criteria`: every criterion's level, applicability, missing evidence, and the result
   of every condition it decided;
3. `settle`: levels -> category scores -> overall score -> tier -> gates, the one scoring
   `apply_overrides` uses too;
4. explanations (explain.py), written from those decisions when a result's criteria or
   `to_dict()` are read; they decide nothing again.

No parsing, no validation of the rubric and no floating-point arithmetic that could put a
score on the wrong side of a tier threshold happen while assessing. Pure Python: nothing
here imports Django.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from audits.canonical import sha256_hex
from audits.intake.types import describe_location
from audits.rubric.errors import FactsError
from audits.rubric.explain import GateReasons, GeneratedExplainers
from audits.rubric.loader import Rubric
from audits.rubric.plan import RubricPlan
from audits.rubric.results import AssessmentResult, GateResult, category_results
from audits.rubric.schema import IGNORED
from audits.rubric.scorer import GeneratedScorer
from audits.rubric.scoring import ScoreArithmetic, round_half_up
from audits.rubric.vocabulary import expected_value
from audits.rubric.wording import Wording

# Bumped whenever the engine would give a different result, or a different stored form,
# for the same rubric and facts. 2: results carry `missing_facts_reading`, `evidence_gaps`,
# each criterion's `applicability` and `precautionary_facts`, each gate's
# `precautionary_facts` (scores of 1.0.0 are unchanged).
ENGINE_VERSION = "2"

Provenance = Mapping[str, Any]


def _refused(value: Any, path: str) -> FactsError:
    return FactsError(f"{value!r} is not {expected_value(path)}", path=path)


def facts_sha256(facts: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a facts document; FactsError if it is not one."""
    try:
        # Also rejects NaN and infinities (allow_nan=False), which the scorer relies on.
        return sha256_hex(facts)
    except (TypeError, ValueError) as error:
        raise FactsError(f"facts are not a finite JSON document: {error}") from None


class CompiledRubric:
    """A rubric ready to assess facts documents. Build it with `compile_rubric`."""

    def __init__(self, rubric: Rubric) -> None:
        content = rubric.content
        self.rubric = rubric
        self.urn = rubric.urn
        self.version = rubric.version
        self.sha256 = rubric.sha256
        self.missing_facts_reading: str = content.get("missing_facts", IGNORED)
        self.plan = RubricPlan(content)
        self.criteria = self.plan.criteria
        self.criterion_ids = tuple(criterion.id for criterion in self.criteria)
        self.fact_paths = self.plan.fact_paths
        self.arithmetic = ScoreArithmetic(content, self.criteria)
        self.tier_ids = self.arithmetic.tier_ids
        self.scorer = GeneratedScorer(
            self.plan,
            self.arithmetic,
            {"FactsError": FactsError, "Mapping": Mapping, "refused": _refused},
        )
        self.scorer_source = self.scorer.source
        self.gate_reasons = GateReasons(self.plan)
        self.explainers = GeneratedExplainers(
            self.plan, Wording(content["explanation_templates"]), self.scorer.bands
        )

    def read_facts(self, facts: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The present facts the rubric reads, by path, and the diagnostics' own sources.

        Raises FactsError for a value outside the filing schema: a wrong value must not be
        scored as if it were a valid one.
        """
        values, sources = self.scorer.read(facts)
        present = {
            path: value
            for path, value in zip(self.fact_paths, values, strict=True)
            if value is not None
        }
        return present, sources

    def _settle(
        self, values: tuple[Any, ...], levels: tuple[int, ...]
    ) -> tuple[tuple[int, ...], int, int, int, list[GateResult]]:
        """The one scoring of levels: category numerators, overall numerator, tier indexes
        before and after gates, and the gates that hold."""
        numerators, overall, before, tier, raws = self.scorer.settle(values, levels)
        read_as_risk = self.gate_reasons.read_as_risk(values, levels, raws)
        gates = [
            GateResult(gate.id, gate.name, gate.min_tier, paths)
            for gate, raw, paths in zip(self.plan.gates, raws, read_as_risk, strict=True)
            if raw
        ]
        return numerators, overall, before, tier, gates

    def assess(
        self, facts: Mapping[str, Any], provenance: Mapping[str, Provenance] | None = None
    ) -> AssessmentResult:
        """Assess one facts document (FILING.md shape).

        `provenance` maps fact paths (`training.environment_diversity`,
        `diagnostics[<metric>]`) to `{"file", "line", "field"}`; a used fact's source is
        that location, else the diagnostic's own `source`, else "".

        Scores, tier, gates and coverage are computed here; each criterion's explanation
        and used facts are written when `criteria` (or `to_dict()`) is read, from the
        decisions taken now and `provenance` as it is then.
        """
        facts_hash = facts_sha256(facts)
        values, sources = self.scorer.read(facts)
        levels, applicability, missing, sites = self.scorer.criteria(values)
        numerators, overall, before, tier, gates = self._settle(values, levels)
        covered, applicable, insufficient = self.arithmetic.coverage(applicability, missing)
        overall_denominator = self.arithmetic.overall_denominator
        return AssessmentResult(
            rubric_urn=self.urn,
            rubric_version=self.version,
            rubric_sha256=self.sha256,
            engine_version=ENGINE_VERSION,
            facts_sha256=facts_hash,
            missing_facts_reading=self.missing_facts_reading,
            overall_score=overall / overall_denominator,
            tier=self.tier_ids[tier],
            tier_before_gates=self.tier_ids[before],
            coverage=covered / applicable,
            insufficient_evidence=insufficient,
            gates=gates,
            category_scales=self.arithmetic.categories,
            category_numerators=numerators,
            overall_numerator=overall,
            overall_denominator=overall_denominator,
            coverage_numerator=covered,
            coverage_denominator=applicable,
            criterion_ids=self.criterion_ids,
            criterion_levels=levels,
            explain_criteria=partial(
                self._explain, values, sources, provenance, levels, applicability, missing, sites
            ),
        )

    def apply_overrides(
        self,
        result: Mapping[str, Any],
        levels: Mapping[str, int],
        *,
        facts: Mapping[str, Any],
    ) -> dict[str, Any]:
        """`result` (a stored `to_dict()` form) rescored with regulators' `levels` by criterion id.

        Category scores, the overall score, the tier and the gates are recomputed by the
        same scoring as `assess`, the gates from the new levels and `facts` (the document
        `result` was computed from: some gates read facts, e.g. autonomy). Each overridden
        criterion carries `level` (the override), `automated_level` (the engine's) and
        `overridden: true`; the others keep the engine's level. Coverage, evidence and
        explanations are the engine's: an override decides a level, not what was supplied.
        Applying overrides to a result that already has some replaces them: the levels
        given here are the complete set.

        Raises ValueError for an unknown criterion, a level outside 0..max_level, or a
        result or facts document that is not this rubric's assessment of these facts.
        """
        reference = result.get("rubric") or {}
        if reference.get("sha256") != self.sha256:
            raise ValueError(
                f"the result was computed under rubric {reference.get('urn')}@"
                f"{reference.get('version')}, not {self.urn}@{self.version}; apply overrides "
                "with the rubric that produced it"
            )
        if facts_sha256(facts) != result.get("facts_sha256"):
            raise ValueError(
                "the facts document is not the one the result was computed from "
                "(facts_sha256 differs); pass the facts of the assessed revision"
            )
        maxima = {criterion.id: criterion.max_level for criterion in self.criteria}
        for criterion_id, level in levels.items():
            if criterion_id not in maxima:
                raise ValueError(
                    f"unknown criterion {criterion_id!r} in the overrides; "
                    f"{self.urn}@{self.version} has {', '.join(maxima)}"
                )
            maximum = maxima[criterion_id]
            if level.__class__ is not int or not 0 <= level <= maximum:
                raise ValueError(
                    f"override of {criterion_id}: level {level!r} is not a whole number "
                    f"from 0 to {maximum}"
                )

        criteria = []
        final_levels: dict[str, int] = {}
        for stored in result["criteria"]:
            criterion = {
                key: value
                for key, value in stored.items()
                if key not in ("automated_level", "overridden")
            }
            automated = stored.get("automated_level", stored["level"])
            if stored["id"] in levels:
                criterion["level"] = levels[stored["id"]]
                criterion["automated_level"] = automated
                criterion["overridden"] = True
            else:
                criterion["level"] = automated
            final_levels[criterion["id"]] = criterion["level"]
            criteria.append(criterion)
        if set(final_levels) != set(maxima):
            raise ValueError(f"the result's criteria are not those of {self.urn}@{self.version}")

        values, _ = self.scorer.read(facts)
        ordered = tuple(final_levels[criterion_id] for criterion_id in self.criterion_ids)
        numerators, overall, before, tier, gates = self._settle(values, ordered)
        return {
            **result,
            "overall_score": round_half_up(overall, self.arithmetic.overall_denominator, 2),
            "tier": self.tier_ids[tier],
            "tier_before_gates": self.tier_ids[before],
            "categories": [
                category.to_dict()
                for category in category_results(self.arithmetic.categories, numerators)
            ],
            "criteria": criteria,
            "gates": [gate.to_dict() for gate in gates],
        }

    def _explain(
        self,
        values: tuple[Any, ...],
        sources: dict[str, str],
        provenance: Mapping[str, Provenance] | None,
        levels: Sequence[int],
        applicability: Sequence[int],
        missing: Sequence[bool],
        sites: tuple[int, ...],
    ) -> list[dict[str, Any]]:
        """Every criterion's stored form, written from the scorer's decisions."""
        # Where each present fact came from, as explanations print it: its provenance
        # (file, line, field), else the diagnostic's own `source`, else "".
        texts: dict[str, str]
        if provenance:
            texts = {}
            for path, value in zip(self.fact_paths, values, strict=True):
                if value is not None:
                    location = provenance.get(path)
                    texts[path] = describe_location(location) if location else sources.get(path, "")
        else:
            texts = defaultdict(str, sources)
        return self.explainers.explain(values, applicability, levels, missing, sites, texts)


def compile_rubric(rubric: Rubric) -> CompiledRubric:
    """Compile a loaded (validated) rubric into evaluators; do it once, assess many times."""
    return CompiledRubric(rubric)


_COMPILED: dict[str, CompiledRubric] = {}
_COMPILED_LIMIT = 16


def compiled(rubric: Rubric | CompiledRubric) -> CompiledRubric:
    """`rubric` compiled, from a small cache keyed by its sha256."""
    if isinstance(rubric, CompiledRubric):
        return rubric
    found = _COMPILED.get(rubric.sha256)
    if found is None:
        found = compile_rubric(rubric)
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[rubric.sha256] = found
    return found


def assess(
    rubric: Rubric,
    facts: Mapping[str, Any],
    provenance: Mapping[str, Provenance] | None = None,
) -> AssessmentResult:
    """Assess `facts` under `rubric`, compiling it on first use (cached by its sha256)."""
    return compiled(rubric).assess(facts, provenance)


def apply_overrides(
    rubric: Rubric,
    result: Mapping[str, Any],
    levels: Mapping[str, int],
    *,
    facts: Mapping[str, Any],
) -> dict[str, Any]:
    """`result` (a stored `to_dict()` form) rescored with regulators' `levels` by criterion id.

    See `CompiledRubric.apply_overrides`.
    """
    return compiled(rubric).apply_overrides(result, levels, facts=facts)
