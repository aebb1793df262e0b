"""The checks of a rubric that JSON Schema cannot express, and full validation.

The condition language, references between sections, bands covering every number once, map
keys against the filing's enumerations, weights summing to one, and what a precautionary
rubric must also say. `rubric_errors` runs the structure check (schema.py) and then these.
Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from audits.rubric.conditions import fact_leaves
from audits.rubric.errors import RubricError
from audits.rubric.schema import (
    PRECAUTIONARY,
    PRECAUTIONARY_TEMPLATES,
    TEMPLATE_PLACEHOLDERS,
    structure_errors,
)
from audits.rubric.vocabulary import (
    BOOLEAN,
    ENUM,
    KNOWN_FACTS,
    LIST,
    NUMBER,
    FactKind,
    allowed_map_keys,
    diagnostic_metric,
)

COMPARISONS = ("eq", "ne", "gte", "gt", "lte", "lt")
FACT_OPERATORS = (*COMPARISONS, "in", "not_in", "contains", "contains_any", "present")
LEVEL_OPERATORS = COMPARISONS


@dataclass
class _Context:
    """What a condition may refer to at the place it is written."""

    conditions: Mapping[str, Any]
    criteria: Mapping[str, int] | None = None  # id -> max_level; gates only
    earlier_gates: Sequence[str] | None = None  # gates only


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_fact_value(path: str, kind: FactKind, value: Any, where: str) -> Iterator[RubricError]:
    if kind.kind == ENUM or kind.kind == LIST:
        if value not in kind.allowed:
            yield RubricError(
                f"{value!r} is not a value of {path}; allowed: {', '.join(kind.allowed)}",
                path=where,
            )
    elif kind.kind == BOOLEAN:
        if not isinstance(value, bool):
            yield RubricError(f"{path} is true or false, not {value!r}", path=where)
    elif kind.kind == NUMBER:
        if not _is_number(value):
            yield RubricError(f"{path} is a number, not {value!r}", path=where)
    elif not isinstance(value, str):
        yield RubricError(f"{path} is text, not {value!r}", path=where)


def _check_fact_path(path: Any, where: str) -> Iterator[RubricError]:
    if not isinstance(path, str) or path not in KNOWN_FACTS:
        metric = diagnostic_metric(path) if isinstance(path, str) else None
        hint = (
            f"diagnostic {metric!r} is not in metric catalogue v1"
            if metric is not None
            else "use a FILING.md path such as training.environment_diversity or "
            "diagnostics[<catalogue metric id>]"
        )
        yield RubricError(f"unknown fact {path!r}: {hint}", path=where)


def check_condition(
    condition: Any, where: str, context: _Context, _seen: tuple[str, ...] = ()
) -> Iterator[RubricError]:
    """Errors in one condition of the rubric's condition language (see the rubric file)."""
    if not isinstance(condition, dict) or not condition:
        yield RubricError("a condition is a non-empty mapping", path=where)
        return
    keys = set(condition)
    if keys & {"all", "any"}:
        if len(keys) != 1:
            yield RubricError(
                f"'all'/'any' must stand alone in a condition, found {sorted(keys)}", path=where
            )
            return
        (combinator,) = keys
        members = condition[combinator]
        if not isinstance(members, list) or not members:
            yield RubricError(
                f"'{combinator}' takes a non-empty list", path=f"{where}.{combinator}"
            )
            return
        for index, member in enumerate(members):
            yield from check_condition(member, f"{where}.{combinator}[{index}]", context, _seen)
        return
    if "condition" in keys:
        if keys != {"condition"}:
            yield RubricError("'condition' must stand alone", path=where)
            return
        name = condition["condition"]
        if name not in context.conditions:
            yield RubricError(
                f"unknown named condition {name!r}; defined: {', '.join(context.conditions)}",
                path=f"{where}.condition",
            )
        elif name in _seen:
            yield RubricError(
                f"named condition {name!r} refers to itself", path=f"{where}.condition"
            )
        return
    if "gate" in keys:
        if keys != {"gate"}:
            yield RubricError("'gate' must stand alone", path=where)
        elif context.earlier_gates is None:
            yield RubricError("a gate can only be referred to in a gate", path=f"{where}.gate")
        elif condition["gate"] not in context.earlier_gates:
            yield RubricError(
                f"unknown gate {condition['gate']!r}: a gate may refer only to gates listed "
                "before it",
                path=f"{where}.gate",
            )
        return
    if "level" in keys:
        if context.criteria is None:
            yield RubricError("criterion levels can only be read by gates", path=f"{where}.level")
            return
        operators = keys - {"level"}
        if len(operators) != 1 or not operators <= set(LEVEL_OPERATORS):
            yield RubricError(
                f"a level condition takes exactly one of {', '.join(LEVEL_OPERATORS)}",
                path=where,
            )
            return
        criterion = condition["level"]
        if criterion not in context.criteria:
            yield RubricError(f"unknown criterion {criterion!r}", path=f"{where}.level")
            return
        (operator,) = operators
        operand = condition[operator]
        if not isinstance(operand, int) or isinstance(operand, bool):
            yield RubricError("a level is an integer", path=f"{where}.{operator}")
        elif not 0 <= operand <= context.criteria[criterion]:
            yield RubricError(
                f"{criterion} levels run from 0 to {context.criteria[criterion]}",
                path=f"{where}.{operator}",
            )
        return
    if "fact" in keys:
        path = condition["fact"]
        errors = list(_check_fact_path(path, f"{where}.fact"))
        if errors:
            yield from errors
            return
        kind = KNOWN_FACTS[path]
        operators = keys - {"fact"}
        if len(operators) != 1 or not operators <= set(FACT_OPERATORS):
            unknown = sorted(operators - set(FACT_OPERATORS))
            yield RubricError(
                (f"unknown operator {unknown[0]!r}; " if unknown else "")
                + f"a fact condition takes exactly one of {', '.join(FACT_OPERATORS)}",
                path=f"{where}.{unknown[0]}" if unknown else where,
            )
            return
        (operator,) = operators
        operand = condition[operator]
        at = f"{where}.{operator}"
        if operator == "present":
            # Only `present: true`: a "not present" test would reward withholding evidence.
            if operand is not True:
                yield RubricError("'present' only takes true", path=at)
        elif operator in ("contains", "contains_any"):
            if kind.kind != LIST:
                yield RubricError(f"{path} is not a list; '{operator}' needs one", path=at)
            elif operator == "contains":
                yield from _check_fact_value(path, kind, operand, at)
            elif not isinstance(operand, list) or not operand:
                yield RubricError("'contains_any' takes a non-empty list", path=at)
            else:
                for index, value in enumerate(operand):
                    yield from _check_fact_value(path, kind, value, f"{at}[{index}]")
        elif operator in ("in", "not_in"):
            if kind.kind == LIST:
                yield RubricError(f"{path} is a list; use contains or contains_any", path=at)
            elif not isinstance(operand, list) or not operand:
                yield RubricError(f"'{operator}' takes a non-empty list", path=at)
            else:
                for index, value in enumerate(operand):
                    yield from _check_fact_value(path, kind, value, f"{at}[{index}]")
        elif operator in ("gte", "gt", "lte", "lt"):
            if kind.kind != NUMBER:
                yield RubricError(f"{path} is not a number; '{operator}' needs one", path=at)
            elif not _is_number(operand):
                yield RubricError(f"'{operator}' takes a number", path=at)
        else:  # eq, ne
            if kind.kind == LIST:
                yield RubricError(f"{path} is a list; use contains or contains_any", path=at)
            else:
                yield from _check_fact_value(path, kind, operand, at)
        return
    yield RubricError(
        f"unknown condition {sorted(keys)}: a condition is one of all, any, condition, "
        "fact, level, gate",
        path=where,
    )


def _check_bands(
    path: str, bands: list[dict[str, Any]], max_level: int, where: str
) -> Iterator[RubricError]:
    """Bands must be in ascending order and cover every number exactly once."""
    previous_upper: tuple[float, bool] | None = None  # (bound, inclusive)
    for index, band in enumerate(bands):
        at = f"{where}[{index}]"
        if "min" in band and "above" in band:
            yield RubricError("a band has one lower bound: min or above", path=f"{at}.above")
            return
        if "max" in band and "at_most" in band:
            yield RubricError("a band has one upper bound: max or at_most", path=f"{at}.at_most")
            return
        lower_key = "min" if "min" in band else "above" if "above" in band else None
        upper_key = "max" if "max" in band else "at_most" if "at_most" in band else None
        if band["level"] > max_level:
            yield RubricError(
                f"level {band['level']} is above the criterion's max_level {max_level}",
                path=f"{at}.level",
            )
        if index == 0:
            if lower_key is not None:
                yield RubricError(
                    "the first band must have no lower bound, so every value gets a level",
                    path=f"{at}.{lower_key}",
                )
        elif lower_key is None or previous_upper is None:
            yield RubricError(
                "only the first band may be open below", path=f"{at}" if lower_key else at
            )
            return
        else:
            bound, inclusive = previous_upper
            # The previous band ended at `bound` (inclusive or not); this one must start
            # exactly there with the complementary inclusiveness: no gap, no overlap.
            expected_key = "above" if inclusive else "min"
            if band[lower_key] != bound or lower_key != expected_key:
                yield RubricError(
                    f"band must start where the previous one ends: {expected_key}: {bound}",
                    path=f"{at}.{lower_key}",
                )
        if upper_key is None:
            if index != len(bands) - 1:
                yield RubricError(
                    "only the last band may be open above", path=f"{where}[{index + 1}]"
                )
                return
            previous_upper = None
        else:
            upper = band[upper_key]
            if lower_key is not None and upper < band[lower_key]:
                yield RubricError("upper bound below lower bound", path=f"{at}.{upper_key}")
            previous_upper = (upper, upper_key == "at_most")
            if index == len(bands) - 1:
                yield RubricError(
                    "the last band must have no upper bound, so every value gets a level",
                    path=f"{at}.{upper_key}",
                )


def _check_map(
    path: str, mapping: dict[str, Any], kind: FactKind, where: str, *, levels_up_to: int | None
) -> Iterator[RubricError]:
    if kind.kind not in (ENUM, BOOLEAN):
        yield RubricError(
            f"{path} is a {kind.kind}; 'map' needs an enumeration or a boolean", path=where
        )
        return
    allowed = allowed_map_keys(kind)
    for key, level in mapping.items():
        if key not in allowed:
            hint = " (quote booleans: 'true', 'false')" if not isinstance(key, str) else ""
            yield RubricError(
                f"{key!r} is not a value of {path}{hint}; allowed: {', '.join(allowed)}",
                path=f"{where}.{key}",
            )
        elif levels_up_to is not None and level > levels_up_to:
            yield RubricError(
                f"level {level} is above the criterion's max_level {levels_up_to}",
                path=f"{where}.{key}",
            )
    absent = [value for value in allowed if value not in mapping]
    if absent:
        # A value without a level would make a valid filing unscorable.
        yield RubricError(f"no level for {', '.join(absent)} of {path}", path=where)


def semantic_errors(document: dict[str, Any]) -> Iterator[RubricError]:
    conditions: dict[str, Any] = document.get("conditions") or {}
    plain = _Context(conditions=conditions)

    for name, condition in conditions.items():
        yield from check_condition(condition, f"conditions.{name}", plain, (name,))
    yield from _check_condition_cycles(conditions)

    categories = document["categories"]
    category_ids = [category["id"] for category in categories]
    yield from _duplicates(category_ids, "categories", "category")
    total = sum((Fraction(repr(category["weight"])) for category in categories), Fraction(0))
    if total != 1:
        yield RubricError(
            f"category weights must sum to 1, they sum to {float(total):g}", path="categories"
        )

    tiers = document["tiers"]
    tier_ids = [tier["id"] for tier in tiers]
    yield from _duplicates(tier_ids, "tiers", "tier")
    if tiers[0]["min"] != 0:
        yield RubricError("the first tier must start at 0", path="tiers[0].min")
    for index in range(1, len(tiers)):
        if tiers[index]["min"] <= tiers[index - 1]["min"]:
            yield RubricError("tiers must be in ascending order of min", path=f"tiers[{index}].min")

    reference_ids = [reference["id"] for reference in document["references"]]
    yield from _duplicates(reference_ids, "references", "reference")

    criteria = document["criteria"]
    yield from _duplicates([criterion["id"] for criterion in criteria], "criteria", "criterion")
    yield from _duplicates([criterion["name"] for criterion in criteria], "criteria", "name")
    used_categories = set()
    for index, criterion in enumerate(criteria):
        yield from _criterion_errors(
            criterion, f"criteria[{index}]", plain, category_ids, reference_ids
        )
        used_categories.add(criterion["category"])
    for index, category_id in enumerate(category_ids):
        if category_id not in used_categories:
            yield RubricError(
                f"category {category_id!r} has no criteria", path=f"categories[{index}]"
            )

    max_levels = {criterion["id"]: criterion["max_level"] for criterion in criteria}
    gates = document["gates"]
    yield from _duplicates([gate["id"] for gate in gates], "gates", "gate")
    for index, gate in enumerate(gates):
        at = f"gates[{index}]"
        if gate["min_tier"] not in tier_ids:
            yield RubricError(
                f"unknown tier {gate['min_tier']!r}; tiers: {', '.join(tier_ids)}",
                path=f"{at}.min_tier",
            )
        gate_context = _Context(
            conditions=conditions,
            criteria=max_levels,
            earlier_gates=[earlier["id"] for earlier in gates[:index]],
        )
        yield from check_condition(gate["when"], f"{at}.when", gate_context)

    yield from _template_errors(document)
    if document.get("missing_facts") == PRECAUTIONARY:
        yield from _precautionary_errors(document, conditions)


def _criterion_errors(
    criterion: dict[str, Any],
    at: str,
    context: _Context,
    category_ids: list[str],
    reference_ids: list[str],
) -> Iterator[RubricError]:
    max_level = criterion["max_level"]
    if criterion["category"] not in category_ids:
        yield RubricError(
            f"unknown category {criterion['category']!r}; categories: {', '.join(category_ids)}",
            path=f"{at}.category",
        )
    if criterion["missing_level"] > max_level:
        yield RubricError(
            f"missing_level {criterion['missing_level']} is above max_level {max_level}",
            path=f"{at}.missing_level",
        )
    for index, cited in enumerate(criterion.get("cites", [])):
        if cited not in reference_ids:
            yield RubricError(f"unknown reference {cited!r}", path=f"{at}.cites[{index}]")
    if "applies_when" in criterion:
        yield from check_condition(criterion["applies_when"], f"{at}.applies_when", context)

    for index, signal in enumerate(criterion["signals"]):
        where = f"{at}.signals[{index}]"
        path_errors = list(_check_fact_path(signal["fact"], f"{where}.fact"))
        if path_errors:
            yield from path_errors
            continue
        kind = KNOWN_FACTS[signal["fact"]]
        if "when" in signal:
            yield from check_condition(signal["when"], f"{where}.when", context)
        if "map" in signal:
            yield from _check_map(
                signal["fact"], signal["map"], kind, f"{where}.map", levels_up_to=max_level
            )
        else:
            if kind.kind != NUMBER:
                yield RubricError(
                    f"{signal['fact']} is not a number; use 'map' instead of 'bands'",
                    path=f"{where}.bands",
                )
            else:
                yield from _check_bands(
                    signal["fact"], signal["bands"], max_level, f"{where}.bands"
                )

    for index, adjustment in enumerate(criterion.get("adjustments", [])):
        where = f"{at}.adjustments[{index}]"
        if "fact" in adjustment:
            path_errors = list(_check_fact_path(adjustment["fact"], f"{where}.fact"))
            if path_errors:
                yield from path_errors
                continue
            yield from _check_map(
                adjustment["fact"],
                adjustment["map"],
                KNOWN_FACTS[adjustment["fact"]],
                f"{where}.map",
                levels_up_to=None,
            )
        else:
            yield from check_condition(adjustment["when"], f"{where}.when", context)

    for index, group in enumerate(criterion.get("requires_any", [])):
        where = f"{at}.requires_any[{index}]"
        for member_index, path in enumerate(group["facts"]):
            yield from _check_fact_path(path, f"{where}.facts[{member_index}]")
        if "when" in group:
            yield from check_condition(group["when"], f"{where}.when", context)


def _check_condition_cycles(conditions: Mapping[str, Any]) -> Iterator[RubricError]:
    def references(node: Any) -> Iterator[str]:
        if not isinstance(node, dict):
            return
        if isinstance(node.get("condition"), str):
            yield node["condition"]
        for key in ("all", "any"):
            for member in node.get(key) or ():
                yield from references(member)

    for start in conditions:
        stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
        while stack:
            name, trail = stack.pop()
            for target in references(conditions.get(name)):
                if target == start:
                    yield RubricError(
                        f"named conditions refer to each other in a cycle: "
                        f"{' -> '.join((*trail, target))}",
                        path=f"conditions.{start}",
                    )
                    return
                if target in conditions and target not in trail:
                    stack.append((target, (*trail, target)))


def _template_errors(document: Mapping[str, Any]) -> Iterator[RubricError]:
    templates: Mapping[str, str] = document["explanation_templates"]
    if document.get("missing_facts") == PRECAUTIONARY:
        for key in PRECAUTIONARY_TEMPLATES:
            if key not in templates:
                yield RubricError(
                    f"a precautionary rubric words '{key}' too: it explains a missing fact "
                    "read toward higher risk",
                    path=f"explanation_templates.{key}",
                )
    for key, template in templates.items():
        allowed = TEMPLATE_PLACEHOLDERS[key]
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as error:
            yield RubricError(f"malformed template: {error}", path=f"explanation_templates.{key}")
            continue
        unknown = sorted(fields - allowed)
        if unknown:
            yield RubricError(
                f"unknown placeholder {{{unknown[0]}}}; this template may use "
                + (", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"),
                path=f"explanation_templates.{key}",
            )


def _duplicates(ids: list[str], where: str, what: str) -> Iterator[RubricError]:
    seen: set[str] = set()
    for index, identifier in enumerate(ids):
        if identifier in seen:
            yield RubricError(f"duplicate {what} {identifier!r}", path=f"{where}[{index}]")
        seen.add(identifier)


def _precautionary_errors(
    document: Mapping[str, Any], conditions: Mapping[str, Any]
) -> Iterator[RubricError]:
    """A precautionary rubric keeps "removing a fact never lowers a level" by construction.

    Every fact test but `present` reads a missing fact as unknown, which each place resolves
    toward risk. `present` is decided (the fact is not there), so it may only appear where
    its holding cannot raise a level: in an adjustment with a negative delta.
    """
    if "semantics" not in document:
        yield RubricError(
            "a precautionary rubric states its principle in 'semantics', for the report",
            path="semantics",
        )
    places: list[tuple[Any, str]] = []
    for index, criterion in enumerate(document["criteria"]):
        at = f"criteria[{index}]"
        if "applies_when" in criterion:
            places.append((criterion["applies_when"], f"{at}.applies_when"))
        for part in ("signals", "requires_any"):
            for member_index, member in enumerate(criterion.get(part, ())):
                if "when" in member:
                    places.append((member["when"], f"{at}.{part}[{member_index}].when"))
        for member_index, adjustment in enumerate(criterion.get("adjustments", ())):
            if "when" in adjustment and adjustment["delta"] > 0:
                places.append((adjustment["when"], f"{at}.adjustments[{member_index}].when"))
    for index, gate in enumerate(document["gates"]):
        places.append((gate["when"], f"gates[{index}].when"))
    reported: set[str] = set()
    for condition, where in places:
        for leaf, leaf_where in fact_leaves(condition, conditions, where):
            if "present" in leaf and leaf_where not in reported:
                reported.add(leaf_where)
                yield RubricError(
                    f"'present' may raise a level here (used at {where}); a precautionary "
                    "rubric uses it only in adjustments with a negative delta, so that "
                    "withholding a fact can never lower a level",
                    path=f"{leaf_where}.present",
                )


def rubric_errors(document: Any) -> list[RubricError]:
    """Every error in a rubric document, each naming its path; empty when it is valid."""
    errors = structure_errors(document)
    if errors:
        # Semantic checks assume the structure; report structure first.
        return errors
    return list(semantic_errors(document))


def validate_rubric(document: Any, *, source: str = "") -> None:
    """Raise RubricError for the first error (by document order), mentioning how many."""
    errors = rubric_errors(document)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RubricError(first.message + more, path=first.path, source=source, errors=errors)
