"""The rubric engine: compile a rubric once, then assess facts documents quickly.

`compile_rubric` turns every weight into exact integer coefficients, and every condition,
signal, adjustment and gate of a validated rubric twice into code: one generated function
(scorer.py) that computes the levels, gates and scores `assess` needs, and small closures
that write each criterion's explanation and used facts when a result's criteria are first
read (and check that both agree). `assess` does no parsing, no validation of the rubric and
no floating-point arithmetic that could put a score on the wrong side of a tier threshold.
Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import partial
from itertools import compress
from math import isfinite, lcm
from operator import gt
from typing import Any, NamedTuple

from audits.canonical import sha256_hex
from audits.intake.types import describe_location
from audits.rubric.loader import Rubric
from audits.rubric.schema import (
    BOOLEAN,
    ENUM,
    KNOWN_FACTS,
    LIST,
    NUMBER,
    condition_facts,
    diagnostic_metric,
)
from audits.rubric.scorer import build_scorer

# Bumped whenever the engine would give a different result for the same rubric and facts.
ENGINE_VERSION = "1"

# values: the facts the rubric reads, by path, present ones only; levels and gates are
# only given to gate conditions.
Condition = Callable[[dict[str, Any], "dict[str, int] | None", "dict[str, bool] | None"], bool]
Provenance = Mapping[str, Any]


class FactsError(ValueError):
    """A facts document the rubric cannot read (a value outside the filing schema)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


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
    applicable: bool
    missing_evidence: bool
    missing_facts: list[str]
    explanation: str
    rationale: str
    reference: str
    facts: list[UsedFact]
    to_resolve: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "level": self.level,
            "max_level": self.max_level,
            "weight": self.weight,
            "applicable": self.applicable,
            "missing_evidence": self.missing_evidence,
            "missing_facts": list(self.missing_facts),
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
            "score": _round_half_up(self.score_numerator, self.score_denominator, 2),
        }


@dataclass(slots=True)
class GateResult:
    id: str
    name: str
    min_tier: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "min_tier": self.min_tier}


@dataclass(slots=True)
class AssessmentResult:
    """One assessment. `to_dict()` is the stored and printed form."""

    rubric_urn: str
    rubric_version: str
    rubric_sha256: str
    engine_version: str
    facts_sha256: str
    overall_score: float  # unrounded; to_dict() rounds to 2 decimals
    tier: str
    tier_before_gates: str
    coverage: float  # unrounded; to_dict() rounds to 3 decimals
    insufficient_evidence: bool
    categories: list[CategoryResult]
    gates: list[GateResult]  # the gates that fired
    overall_numerator: int = field(repr=False)
    overall_denominator: int = field(repr=False)
    coverage_numerator: int = field(repr=False)
    coverage_denominator: int = field(repr=False)
    criterion_ids: tuple[str, ...] = field(repr=False)
    criterion_levels: tuple[int, ...] = field(repr=False)
    # Writes the criteria's explanations and used facts; called once, when first needed.
    explain_criteria: Callable[[], list[CriterionResult]] = field(repr=False, compare=False)
    _criteria: list[CriterionResult] | None = field(default=None, repr=False, compare=False)

    @property
    def criteria(self) -> list[CriterionResult]:
        """Every criterion's result, in rubric order (written on first access)."""
        if self._criteria is None:
            self._criteria = self.explain_criteria()
        return self._criteria

    @property
    def levels(self) -> dict[str, int]:
        return dict(zip(self.criterion_ids, self.criterion_levels, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rubric": {
                "urn": self.rubric_urn,
                "version": self.rubric_version,
                "sha256": self.rubric_sha256,
            },
            "engine_version": self.engine_version,
            "facts_sha256": self.facts_sha256,
            "overall_score": _round_half_up(self.overall_numerator, self.overall_denominator, 2),
            "tier": self.tier,
            "tier_before_gates": self.tier_before_gates,
            "coverage": _round_half_up(self.coverage_numerator, self.coverage_denominator, 3),
            "insufficient_evidence": self.insufficient_evidence,
            "categories": [category.to_dict() for category in self.categories],
            "criteria": [criterion.to_dict() for criterion in self.criteria],
            "gates": [gate.to_dict() for gate in self.gates],
        }


def _round_half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator/denominator (non-negative) rounded half up, computed on integers.

    Python's round() on a float rounds half to even on a binary approximation, so 40.805
    could print either way; the exact rational value decides here.
    """
    scale = 10**places
    return ((2 * numerator * scale + denominator) // (2 * denominator)) / scale


def _exact(number: int | float) -> Fraction:
    # The decimal the regulator wrote (0.3), not the binary float nearest to it.
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def format_value(value: Any) -> str:
    """A fact value as explanations show it: the value as filed, booleans as in YAML,
    numbers of a million or more in scientific notation (`3.4e10`, `3.0e24`)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(member) for member in value) + "]"
    if isinstance(value, int | float) and isfinite(value) and abs(value) >= 1e6:
        return _scientific(value)
    return str(value)


def _scientific(number: int | float) -> str:
    """`34000000000.0` -> `3.4e10`, with every significant digit of the value as filed.

    repr() gives a float's shortest exact digits, which Decimal splits without rounding.
    """
    sign, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    power = len(digit_tuple) - 1 + int(exponent)  # an int: the number is finite
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}e{power}"


def _compile_template(
    template: str, signature: Sequence[str], bound: Mapping[str, str] | None = None
) -> Callable[..., str]:
    """A renderer for an explanation template taking `signature`'s fields positionally.

    Templates are written with `{name}` fields (str.format style) so a regulator can read
    them; str.format with keywords costs about a microsecond per call, so each template
    is turned once into a positional %-format string, with `bound` fields filled in now.
    """
    bound = bound or {}
    pieces: list[str] = []
    order: list[int] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        pieces.append(literal.replace("%", "%%"))
        if name is None:
            continue
        if name in bound:
            pieces.append(bound[name].replace("%", "%%"))
        else:
            pieces.append("%s")
            order.append(list(signature).index(name))
    fmt = "".join(pieces)
    if order == list(range(len(signature))):
        return lambda *fields: fmt % fields
    if not order:
        text = fmt % ()
        return lambda *fields: text
    positions = tuple(order)
    return lambda *fields: fmt % tuple(fields[index] for index in positions)


# ---------------------------------------------------------------------------- conditions

_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}


def _compile_condition(
    node: Mapping[str, Any], named: Mapping[str, Any], cache: dict[str, Condition]
) -> Condition:
    """A closure for one condition; a condition reading a missing fact is false."""
    if "all" in node or "any" in node:
        parts = tuple(_compile_condition(member, named, cache) for member in node.get("all", ()))
        if parts:

            def all_of(values: dict[str, Any], levels: Any, gates: Any) -> bool:
                return all(part(values, levels, gates) for part in parts)

            return all_of
        alternatives = tuple(_compile_condition(member, named, cache) for member in node["any"])

        def any_of(values: dict[str, Any], levels: Any, gates: Any) -> bool:
            return any(alternative(values, levels, gates) for alternative in alternatives)

        return any_of
    if "condition" in node:
        name = node["condition"]
        if name not in cache:
            cache[name] = _compile_condition(named[name], named, cache)
        return cache[name]
    if "gate" in node:
        gate_id = node["gate"]
        return lambda values, levels, gates: bool(gates and gates[gate_id])
    if "level" in node:
        criterion_id = node["level"]
        ((operator_name, operand),) = [(key, node[key]) for key in node if key != "level"]
        compare = _COMPARE[operator_name]
        return lambda values, levels, gates: compare(levels[criterion_id], operand)  # type: ignore[index]

    path = node["fact"]
    ((operator_name, operand),) = [(key, node[key]) for key in node if key != "fact"]
    if operator_name == "present":
        return lambda values, levels, gates: path in values
    if operator_name == "eq":
        return lambda values, levels, gates: values.get(path) == operand
    if operator_name == "in":
        members = frozenset(operand)
        return lambda values, levels, gates: values.get(path) in members
    if operator_name == "not_in":
        excluded = frozenset(operand)
        return lambda values, levels, gates: path in values and values[path] not in excluded
    if operator_name == "contains":
        return lambda values, levels, gates: operand in values.get(path, ())
    if operator_name == "contains_any":
        wanted = frozenset(operand)
        return lambda values, levels, gates: not wanted.isdisjoint(values.get(path, ()))
    compare = _COMPARE[operator_name]  # ne and the numeric comparisons
    return lambda values, levels, gates: path in values and compare(values[path], operand)


# ---------------------------------------------------------------------------- criteria


def _compile_bands(bands: Sequence[Mapping[str, Any]]) -> Callable[[Any], int]:
    # The schema guarantees contiguous ascending bands, so each band is "below its upper
    # bound" once the earlier ones have been ruled out.
    cuts = tuple(
        (band.get("max", band.get("at_most")), "at_most" in band, int(band["level"]))
        for band in bands[:-1]
    )
    last_level = int(bands[-1]["level"])

    def score(value: Any) -> int:
        for upper, inclusive, level in cuts:
            if value < upper or (inclusive and value == upper):
                return level
        return last_level

    return score


def _python_keys(mapping: Mapping[str, int], kind: str) -> dict[Any, int]:
    if kind == BOOLEAN:
        return {key == "true": level for key, level in mapping.items()}
    return dict(mapping)


class _Signal(NamedTuple):
    path: str
    when: Condition | None
    score: Callable[[Any], int]
    describe: Callable[[Any, int], str]


# An adjustment returns the delta, the explanation fragment (None when it does not apply)
# and the present paths it read.
_Adjustment = Callable[[dict[str, Any]], tuple[int, str | None, tuple[str, ...]]]


class _Requirement(NamedTuple):
    paths: tuple[str, ...]
    when: Condition | None
    evidence: str  # e.g. "diagnostic planning.lookahead_probe_accuracy or planning.lookahead_steps"


def _resolve_text(paths: Sequence[str], templates: Mapping[str, str]) -> str:
    separator = templates["alternative_separator"]
    metrics = [metric for metric in map(diagnostic_metric, paths) if metric is not None]
    facts = [path for path in paths if diagnostic_metric(path) is None]
    pieces = []
    if metrics:
        pieces.append(templates["resolve_diagnostics"].format(metrics=separator.join(metrics)))
    if facts:
        pieces.append(templates["resolve_facts"].format(paths=separator.join(facts)))
    return separator.join(pieces)


_new_used_fact = tuple.__new__  # builds a UsedFact without NamedTuple's slower __new__


class CompiledCriterion:
    """One criterion turned into closures; `evaluate` maps present facts to a result."""

    __slots__ = (
        "adjustments",
        "applies",
        "applies_paths",
        "category",
        "coefficient",
        "coverage_weight",
        "evidence_separator",
        "id",
        "max_level",
        "missing_level",
        "name",
        "no_signal",
        "rationale",
        "reference",
        "render_assessed",
        "render_fact_missing",
        "render_fact_value",
        "render_missing",
        "render_not_applicable",
        "render_to_resolve",
        "requirements",
        "signals",
        "weight",
    )

    def __init__(
        self,
        spec: Mapping[str, Any],
        named: Mapping[str, Any],
        cache: dict[str, Condition],
        templates: Mapping[str, str],
    ) -> None:
        self.id: str = spec["id"]
        self.name: str = spec["name"]
        self.category: str = spec["category"]
        self.weight: int | float = spec["weight"]
        self.max_level: int = spec["max_level"]
        self.missing_level: int = spec["missing_level"]
        self.rationale: str = spec["rationale"]
        self.reference: str = spec["reference"]
        self.coefficient = 0  # set by CompiledRubric: integer weight in the category score
        self.coverage_weight = 0  # set by CompiledRubric: integer weight for coverage

        self.render_assessed = _compile_template(templates["assessed"], ("level", "reasons"))
        self.render_missing = _compile_template(
            templates["missing_evidence"],
            ("level", "reasons", "evidence"),
            {"missing_level": str(self.missing_level)},
        )
        self.render_to_resolve = _compile_template(templates["to_resolve"], ("evidence",))
        self.render_not_applicable = _compile_template(
            templates["not_applicable"], ("values",), {"applies_text": spec.get("applies_text", "")}
        )
        self.render_fact_value = _compile_template(templates["fact_value"], ("path", "value"))
        self.render_fact_missing = _compile_template(templates["fact_missing"], ("path",))
        self.no_signal = templates["no_signal"]
        self.evidence_separator = templates["group_separator"]

        applies_when = spec.get("applies_when")
        self.applies: Condition | None = (
            _compile_condition(applies_when, named, cache) if applies_when else None
        )
        self.applies_paths: tuple[str, ...] = (
            tuple(condition_facts(applies_when, named)) if applies_when else ()
        )
        self.signals = tuple(
            self._compile_signal(signal, named, cache, templates) for signal in spec["signals"]
        )
        self.adjustments = tuple(
            self._compile_adjustment(adjustment, named, cache, templates)
            for adjustment in spec.get("adjustments", ())
        )
        requirements = []
        for part in (*spec["signals"], *spec.get("adjustments", ())):
            if part.get("required"):
                when = part.get("when")
                requirements.append(
                    _Requirement(
                        (part["fact"],),
                        _compile_condition(when, named, cache) if when else None,
                        _resolve_text((part["fact"],), templates),
                    )
                )
        for group in spec.get("requires_any", ()):
            when = group.get("when")
            requirements.append(
                _Requirement(
                    tuple(group["facts"]),
                    _compile_condition(when, named, cache) if when else None,
                    _resolve_text(group["facts"], templates),
                )
            )
        self.requirements = tuple(requirements)

    @staticmethod
    def _compile_signal(
        spec: Mapping[str, Any],
        named: Mapping[str, Any],
        cache: dict[str, Condition],
        templates: Mapping[str, str],
    ) -> _Signal:
        path = spec["fact"]
        when = _compile_condition(spec["when"], named, cache) if "when" in spec else None
        render = _compile_template(templates["signal"], ("value", "level"), {"path": path})
        if "map" in spec:
            levels = _python_keys(spec["map"], KNOWN_FACTS[path].kind)
            # Every value of an enumeration has a fixed level, so its fragment is fixed too.
            fragments = {
                value: render(format_value(value), level) for value, level in levels.items()
            }
            return _Signal(path, when, levels.__getitem__, lambda value, level: fragments[value])
        return _Signal(
            path,
            when,
            _compile_bands(spec["bands"]),
            lambda value, level: render(format_value(value), level),
        )

    @staticmethod
    def _compile_adjustment(
        spec: Mapping[str, Any],
        named: Mapping[str, Any],
        cache: dict[str, Condition],
        templates: Mapping[str, str],
    ) -> _Adjustment:
        if "map" in spec:
            path = spec["fact"]
            deltas = _python_keys(spec["map"], KNOWN_FACTS[path].kind)
            render = _compile_template(templates["adjustment"], ("value", "delta"), {"path": path})
            outcomes = {
                value: (delta, render(format_value(value), f"{delta:+d}"), (path,))
                for value, delta in deltas.items()
            }
            nothing: tuple[int, str | None, tuple[str, ...]] = (0, None, ())

            def by_value(values: dict[str, Any]) -> tuple[int, str | None, tuple[str, ...]]:
                value = values.get(path)
                return nothing if value is None else outcomes[value]

            return by_value

        condition = _compile_condition(spec["when"], named, cache)
        delta = int(spec["delta"])
        fragment = _compile_template(templates["conditional_adjustment"], ("text", "delta"))(
            spec["text"], f"{delta:+d}"
        )
        paths = tuple(condition_facts(spec["when"], named))

        def when_holds(values: dict[str, Any]) -> tuple[int, str | None, tuple[str, ...]]:
            if condition(values, None, None):
                return delta, fragment, tuple(path for path in paths if path in values)
            return 0, None, ()

        return when_holds

    def evaluate(
        self, values: dict[str, Any], source_of: Callable[[str, str], str]
    ) -> CriterionResult:
        """The criterion's result for one facts document (present facts only in `values`)."""
        if self.applies is not None and not self.applies(values, None, None):
            return self._not_applicable(values, source_of)
        level = 0
        reasons: list[str] = []
        used: list[str] = []
        for path, when, score, describe in self.signals:
            value = values.get(path)
            if value is None or (when is not None and not when(values, None, None)):
                continue
            signal_level = score(value)
            if signal_level > level:
                level = signal_level
            reasons.append(describe(value, signal_level))
            used.append(path)
        for adjustment in self.adjustments:
            delta, fragment, read = adjustment(values)
            if fragment is not None:
                level += delta
                reasons.append(fragment)
                for path in read:
                    if path not in used:
                        used.append(path)
        if level < 0:
            level = 0
        elif level > self.max_level:
            level = self.max_level

        missing_facts: list[str] = []
        evidence: list[str] = []
        for paths, when, group_evidence in self.requirements:
            if when is not None and not when(values, None, None):
                continue
            for path in paths:
                if path in values:
                    break
            else:
                for path in paths:
                    if path not in missing_facts:
                        missing_facts.append(path)
                evidence.append(group_evidence)

        reason_text = "; ".join(reasons) if reasons else self.no_signal
        if evidence:
            if level < self.missing_level:
                level = self.missing_level
            evidence_text = (
                evidence[0] if len(evidence) == 1 else self.evidence_separator.join(evidence)
            )
            explanation = self.render_missing(level, reason_text, evidence_text)
            to_resolve: str | None = self.render_to_resolve(evidence_text)
        else:
            explanation = self.render_assessed(level, reason_text)
            to_resolve = None
        return CriterionResult(
            self.id,
            self.name,
            self.category,
            level,
            self.max_level,
            self.weight,
            True,
            bool(evidence),
            missing_facts,
            explanation,
            self.rationale,
            self.reference,
            [_new_used_fact(UsedFact, (path, values[path], source_of(path, ""))) for path in used],
            to_resolve,
        )

    def _not_applicable(
        self, values: dict[str, Any], source_of: Callable[[str, str], str]
    ) -> CriterionResult:
        described = [
            self.render_fact_value(path, format_value(values[path]))
            if path in values
            else self.render_fact_missing(path)
            for path in self.applies_paths
        ]
        return CriterionResult(
            self.id,
            self.name,
            self.category,
            0,
            self.max_level,
            self.weight,
            False,
            False,
            [],
            self.render_not_applicable(", ".join(described)),
            self.rationale,
            self.reference,
            [
                _new_used_fact(UsedFact, (path, values[path], source_of(path, "")))
                for path in self.applies_paths
                if path in values
            ],
            None,
        )


# ---------------------------------------------------------------------------- rubric


def _expected(path: str) -> str:
    kind = KNOWN_FACTS[path]
    if kind.kind == ENUM:
        return "one of " + ", ".join(kind.allowed)
    if kind.kind == LIST:
        return "a list of " + ", ".join(kind.allowed)
    if kind.kind == NUMBER:
        return "a number"
    if kind.kind == BOOLEAN:
        return "true or false"
    return "text"


def _refused(value: Any, path: str) -> FactsError:
    return FactsError(f"{value!r} is not {_expected(path)}", path=path)


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
        templates: dict[str, str] = content["explanation_templates"]
        named: dict[str, Any] = content.get("conditions") or {}
        cache: dict[str, Condition] = {}
        self.criteria = [
            CompiledCriterion(spec, named, cache, templates) for spec in content["criteria"]
        ]
        self.criterion_ids = tuple(criterion.id for criterion in self.criteria)
        self._compile_scores(content)
        self._compile_tiers(content)
        self._compile_gates(content, named, cache)
        self._compile_fact_paths(content, named)
        self._score, self.scorer_source = build_scorer(
            content,
            self.fact_paths,
            self.category_coefficients,
            {"FactsError": FactsError, "Mapping": Mapping, "refused": _refused},
        )

    def _compile_scores(self, content: Mapping[str, Any]) -> None:
        # Category score = 100 × Σ(w × level / max) / Σw. Each criterion gets an integer
        # coefficient over a per-category denominator, and each category an integer
        # coefficient over one overall denominator, so every score is an exact fraction.
        # The scorer computes each category's numerator from `category_coefficients`.
        self.categories: list[tuple[str, str, float, int, int]] = []
        self.category_coefficients: list[dict[str, int]] = []
        category_fractions: list[Fraction] = []
        for category in content["categories"]:
            members = [c for c in self.criteria if c.category == category["id"]]
            total = sum((_exact(member.weight) for member in members), Fraction(0))
            coefficients = [
                100 * _exact(member.weight) / member.max_level / total for member in members
            ]
            denominator = lcm(*(value.denominator for value in coefficients))
            for member, coefficient in zip(members, coefficients, strict=True):
                member.coefficient = int(coefficient * denominator)
            self.category_coefficients.append({member.id: member.coefficient for member in members})
            category_fractions.append(_exact(category["weight"]) / denominator)
            self.categories.append(
                (category["id"], category["title"], category["weight"], denominator, 0)
            )
        self._overall_denominator = lcm(*(value.denominator for value in category_fractions))
        self.categories = [
            (identifier, title, weight, denominator, int(share * self._overall_denominator))
            for (identifier, title, weight, denominator, _), share in zip(
                self.categories, category_fractions, strict=True
            )
        ]
        weight_scale = lcm(*(_exact(c.weight).denominator for c in self.criteria))
        for criterion in self.criteria:
            criterion.coverage_weight = int(_exact(criterion.weight) * weight_scale)
        self._coverage_weights = tuple(criterion.coverage_weight for criterion in self.criteria)
        threshold = _exact(content["coverage"]["insufficient_below"])
        self._insufficient_below = (threshold.numerator, threshold.denominator)

    def _compile_tiers(self, content: Mapping[str, Any]) -> None:
        self.tier_ids = [tier["id"] for tier in content["tiers"]]
        # A tier applies when numerator / D >= min, i.e. numerator × min.den >= min.num × D.
        self._tier_thresholds = []
        for tier in content["tiers"]:
            minimum = _exact(tier["min"])
            self._tier_thresholds.append(
                (minimum.numerator * self._overall_denominator, minimum.denominator)
            )

    def _compile_gates(
        self, content: Mapping[str, Any], named: Mapping[str, Any], cache: dict[str, Condition]
    ) -> None:
        # The conditions are kept for apply_overrides; assess takes the gates from the scorer.
        self.gates = [
            (
                gate["id"],
                _compile_condition(gate["when"], named, cache),
                GateResult(gate["id"], gate["name"], gate["min_tier"]),
                self.tier_ids.index(gate["min_tier"]),
            )
            for gate in content["gates"]
        ]

    def _compile_fact_paths(self, content: Mapping[str, Any], named: Mapping[str, Any]) -> None:
        paths: list[str] = []
        for spec in content["criteria"]:
            for condition in _conditions_of(spec):
                paths.extend(condition_facts(condition, named))
            paths.extend(signal["fact"] for signal in spec["signals"])
            paths.extend(part["fact"] for part in spec.get("adjustments", ()) if "fact" in part)
            for group in spec.get("requires_any", ()):
                paths.extend(group["facts"])
        for gate in content["gates"]:
            paths.extend(condition_facts(gate["when"], named))
        self.fact_paths = tuple(dict.fromkeys(paths))

    def read_facts(self, facts: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The present facts the rubric reads, by path, and the diagnostics' own sources.

        Raises FactsError for a value outside the filing schema: a wrong value must not be
        scored as if it were a valid one.
        """
        values, sources, *_ = self._score(facts)
        return self._present(values), sources

    def _present(self, values: tuple[Any, ...]) -> dict[str, Any]:
        return {
            path: value
            for path, value in zip(self.fact_paths, values, strict=True)
            if value is not None
        }

    def _tier_index(self, overall_numerator: int) -> int:
        tier_index = 0
        for index, (scaled_minimum, minimum_denominator) in enumerate(self._tier_thresholds):
            if overall_numerator * minimum_denominator >= scaled_minimum:
                tier_index = index
        return tier_index

    def assess(
        self, facts: Mapping[str, Any], provenance: Mapping[str, Provenance] | None = None
    ) -> AssessmentResult:
        """Assess one facts document (FILING.md shape).

        `provenance` maps fact paths (`training.environment_diversity`,
        `diagnostics[<metric>]`) to `{"file", "line", "field"}`; a used fact's source is
        that location, else the diagnostic's own `source`, else "".

        Scores, tier, gates and coverage are computed here; each criterion's explanation
        and used facts are written when `criteria` (or `to_dict()`) is first read, from the
        facts read now and `provenance` as it is then.
        """
        facts_hash = facts_sha256(facts)
        values, sources, levels, applicable, missing, fired, numerators = self._score(facts)

        categories = []
        overall_numerator = 0
        for (category_id, title, weight, denominator, share), numerator in zip(
            self.categories, numerators, strict=True
        ):
            categories.append(
                CategoryResult(
                    category_id, title, weight, numerator / denominator, numerator, denominator
                )
            )
            overall_numerator += share * numerator
        overall_denominator = self._overall_denominator

        tier_before_gates = tier_index = self._tier_index(overall_numerator)
        fired_gates = []
        for (_, _, gate_result, min_tier), holds in zip(self.gates, fired, strict=True):
            if holds:
                fired_gates.append(gate_result)
                if min_tier > tier_index:
                    tier_index = min_tier

        weights = self._coverage_weights
        # For booleans `applicable > missing` is "applicable and not missing".
        covered = sum(compress(weights, map(gt, applicable, missing)))
        applicable_weight = sum(compress(weights, applicable))
        if applicable_weight == 0:
            covered = applicable_weight = 1  # 1.0 when no criterion applies
        below_numerator, below_denominator = self._insufficient_below

        return AssessmentResult(
            self.urn,
            self.version,
            self.sha256,
            ENGINE_VERSION,
            facts_hash,
            overall_numerator / overall_denominator,
            self.tier_ids[tier_index],
            self.tier_ids[tier_before_gates],
            covered / applicable_weight,
            covered * below_denominator < below_numerator * applicable_weight,
            categories,
            fired_gates,
            overall_numerator,
            overall_denominator,
            covered,
            applicable_weight,
            self.criterion_ids,
            levels,
            partial(self._explain, values, sources, provenance, levels, applicable, missing),
        )

    def apply_overrides(
        self,
        result: Mapping[str, Any],
        levels: Mapping[str, int],
        *,
        facts: Mapping[str, Any],
    ) -> dict[str, Any]:
        """`result` (a stored `to_dict()` form) rescored with regulators' `levels` by criterion id.

        Category scores, the overall score, the tier and the gates are recomputed exactly as
        `assess` does, the gates from the new levels and `facts` (the document `result` was
        computed from: some gates read facts, e.g. autonomy). Each overridden criterion
        carries `level` (the override), `automated_level` (the engine's) and
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

        scores: dict[str, float] = {}
        overall_numerator = 0
        for (category_id, _, _, denominator, share), coefficients in zip(
            self.categories, self.category_coefficients, strict=True
        ):
            numerator = sum(
                coefficient * final_levels[criterion_id]
                for criterion_id, coefficient in coefficients.items()
            )
            scores[category_id] = _round_half_up(numerator, denominator, 2)
            overall_numerator += share * numerator
        categories = [
            {**category, "score": scores[category["id"]]} for category in result["categories"]
        ]

        tier_before_gates = tier_index = self._tier_index(overall_numerator)
        values, _ = self.read_facts(facts)
        fired: dict[str, bool] = {}
        gates = []
        for gate_id, condition, gate_result, min_tier in self.gates:
            fired[gate_id] = condition(values, final_levels, fired)
            if fired[gate_id]:
                gates.append(gate_result.to_dict())
                tier_index = max(tier_index, min_tier)

        return {
            **result,
            "overall_score": _round_half_up(overall_numerator, self._overall_denominator, 2),
            "tier": self.tier_ids[tier_index],
            "tier_before_gates": self.tier_ids[tier_before_gates],
            "categories": categories,
            "criteria": criteria,
            "gates": gates,
        }

    def _explain(
        self,
        scored_values: tuple[Any, ...],
        sources: dict[str, str],
        provenance: Mapping[str, Provenance] | None,
        levels: tuple[int, ...],
        applicable: tuple[bool, ...],
        missing: tuple[bool, ...],
    ) -> list[CriterionResult]:
        """Every criterion's full result, from the closures; they must agree with the scorer."""
        values = self._present(scored_values)
        source_of: Callable[[str, str], str]
        if provenance:
            described: dict[str, str] = {}

            def source_of(path: str, default: str = "") -> str:
                text = described.get(path)
                if text is None:
                    location = provenance.get(path)
                    text = describe_location(location) if location else sources.get(path, "")
                    described[path] = text
                return text

        else:
            source_of = sources.get

        results = [criterion.evaluate(values, source_of) for criterion in self.criteria]
        for result, *scored in zip(results, levels, applicable, missing, strict=True):
            if [result.level, result.applicable, result.missing_evidence] != scored:
                raise RuntimeError(
                    f"rubric engine: the generated scorer and the closures disagree on "
                    f"{result.id} of {self.urn}@{self.version} ({scored} against "
                    f"{[result.level, result.applicable, result.missing_evidence]}); "
                    "this is a bug in audits/rubric, please report it with the facts."
                )
        return results


def _conditions_of(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    if "applies_when" in spec:
        found.append(spec["applies_when"])
    for part in (*spec["signals"], *spec.get("adjustments", ()), *spec.get("requires_any", ())):
        if "when" in part:
            found.append(part["when"])
    return found


def compile_rubric(rubric: Rubric) -> CompiledRubric:
    """Compile a loaded (validated) rubric into evaluators; do it once, assess many times."""
    return CompiledRubric(rubric)


_COMPILED: dict[str, CompiledRubric] = {}
_COMPILED_LIMIT = 16


def _compiled(rubric: Rubric) -> CompiledRubric:
    """`rubric` compiled, from a small cache keyed by its sha256."""
    compiled = _COMPILED.get(rubric.sha256)
    if compiled is None:
        compiled = compile_rubric(rubric)
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[rubric.sha256] = compiled
    return compiled


def assess(
    rubric: Rubric,
    facts: Mapping[str, Any],
    provenance: Mapping[str, Provenance] | None = None,
) -> AssessmentResult:
    """Assess `facts` under `rubric`, compiling it on first use (cached by its sha256)."""
    return _compiled(rubric).assess(facts, provenance)


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
    return _compiled(rubric).apply_overrides(result, levels, facts=facts)


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
