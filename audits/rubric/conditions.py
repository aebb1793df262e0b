"""The condition language's meaning, shared by validation, the generated scorer and explanations.

A condition is three-valued. Reading a missing fact gives UNKNOWN under a precautionary
rubric and FALSE under a rubric that ignores missing facts (1.0.0); `present` is always
decided. `all`/`any` follow Kleene's logic, which the integers below make `min`/`max`: a
decided `any` or `all` stays decided (`any(true, unknown)` is true, `all(false, unknown)` is
false). Where a condition is used decides what UNKNOWN means: a place where the condition
holding can only raise a level (`applies_when`, a signal's `when`, a required group's
`when`, an adjustment with a positive delta, a gate) is *positive* and takes UNKNOWN as
holding; an adjustment with a negative delta is *negative* and takes it as not holding.

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any

FALSE = 0
UNKNOWN = 1
TRUE = 2

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}


def fact_operator(node: Mapping[str, Any]) -> tuple[str, Any]:
    """The one operator of a (valid) fact or level condition, and its operand."""
    ((name, operand),) = [(key, node[key]) for key in node if key not in ("fact", "level")]
    return name, operand


def fact_test(name: str, operand: Any) -> Callable[[Any], bool]:
    """A fact condition's test on a present value (the generated scorer writes the same)."""
    if name == "present":
        return lambda value: True
    if name in ("in", "not_in", "contains_any"):
        members = frozenset(operand)
        if name == "in":
            return members.__contains__
        if name == "not_in":
            return lambda value: value not in members
        return lambda value: not members.isdisjoint(value)
    if name == "contains":
        return lambda value: operand in value
    compare = COMPARE[name]
    return lambda value: compare(value, operand)


def condition_facts(condition: Any, conditions: Mapping[str, Any]) -> list[str]:
    """The fact paths a (valid) condition reads, in order, without repeats."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if "fact" in node and node["fact"] not in found:
            found.append(node["fact"])
        for member in node.get("all", ()) or node.get("any", ()):
            walk(member)
        if "condition" in node:
            walk(conditions[node["condition"]])

    walk(condition)
    return found


def fact_leaves(
    condition: Any, conditions: Mapping[str, Any], where: str
) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Every fact test of a (valid) condition with its path in the document, named
    conditions followed (and reported at their own definition)."""
    if "fact" in condition:
        yield condition, where
    for key in ("all", "any"):
        for index, member in enumerate(condition.get(key) or ()):
            yield from fact_leaves(member, conditions, f"{where}.{key}[{index}]")
    if "condition" in condition:
        name = condition["condition"]
        yield from fact_leaves(conditions[name], conditions, f"conditions.{name}")


# (values aligned with the rubric's fact paths, criteria levels by id, each earlier gate's
# result and undecided facts) -> (the condition's value, the missing facts that keep it
# UNKNOWN: empty when it is decided)
UndecidedFacts = Callable[
    [tuple[Any, ...], Mapping[str, int], Mapping[str, tuple[int, list[str]]]],
    tuple[int, list[str]],
]


def undecided_facts(
    node: Mapping[str, Any], conditions: Mapping[str, Any], position: Mapping[str, int]
) -> UndecidedFacts:
    """Evaluates a (valid) condition three-valued, naming the missing facts that leave it
    undecided. Explanations call it only where the scorer found a condition UNKNOWN, to
    say which facts would decide it; `position` maps a fact path to its index in values.
    """
    if "all" in node or "any" in node:
        parts = [
            undecided_facts(member, conditions, position)
            for member in node.get("all") or node["any"]
        ]
        pick = min if "all" in node else max

        def combined(
            values: tuple[Any, ...],
            levels: Mapping[str, int],
            gates: Mapping[str, tuple[int, list[str]]],
        ) -> tuple[int, list[str]]:
            results = [part(values, levels, gates) for part in parts]
            value = pick([part_value for part_value, _ in results])
            if value != UNKNOWN:
                return value, []
            undecided: list[str] = []
            for part_value, paths in results:
                if part_value == UNKNOWN:
                    undecided.extend(path for path in paths if path not in undecided)
            return value, undecided

        return combined
    if "condition" in node:
        return undecided_facts(conditions[node["condition"]], conditions, position)
    if "gate" in node:
        gate_id = node["gate"]
        return lambda values, levels, gates: gates[gate_id]
    name, operand = fact_operator(node)
    if "level" in node:
        criterion_id, compare = node["level"], COMPARE[name]
        return lambda values, levels, gates: (
            (TRUE if compare(levels[criterion_id], operand) else FALSE),
            [],
        )
    path, index, test = node["fact"], position[node["fact"]], fact_test(name, operand)
    if name == "present":  # decided: the fact is there or it is not
        return lambda values, levels, gates: (FALSE if values[index] is None else TRUE, [])

    def leaf(
        values: tuple[Any, ...],
        levels: Mapping[str, int],
        gates: Mapping[str, tuple[int, list[str]]],
    ) -> tuple[int, list[str]]:
        value = values[index]
        if value is None:
            return UNKNOWN, [path]
        return (TRUE if test(value) else FALSE), []

    return leaf
