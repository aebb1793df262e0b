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


def fact_holds(name: str, operand: Any, value: Any) -> bool:
    """A fact condition on a present `value` (the generated scorer writes the same tests)."""
    if name == "present":
        return True
    if name == "in":
        return value in operand
    if name == "not_in":
        return value not in operand
    if name == "contains":
        return operand in value
    if name == "contains_any":
        return not set(operand).isdisjoint(value)
    return COMPARE[name](value, operand)


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


class UndecidedReader:
    """Evaluates conditions three-valued to name the missing facts that left one undecided.

    Explanations use it only where the scorer found a condition UNKNOWN, to say which facts
    would decide it. `value_of(path)` gives a fact's value (None when missing), `levels`
    the criteria's levels by id, `gates` each earlier gate's value and undecided facts.
    """

    def __init__(
        self,
        conditions: Mapping[str, Any],
        value_of: Callable[[str], Any],
        levels: Mapping[str, int] | None = None,
        gates: Mapping[str, tuple[int, list[str]]] | None = None,
    ) -> None:
        self.conditions = conditions
        self.value_of = value_of
        self.levels = levels or {}
        self.gates = gates or {}

    def evaluate(self, node: Mapping[str, Any]) -> tuple[int, list[str]]:
        """(value, the missing facts that keep it UNKNOWN: empty when it is decided)."""
        if "all" in node or "any" in node:
            members = [self.evaluate(member) for member in node.get("all") or node["any"]]
            pick = min if "all" in node else max
            value = pick(member_value for member_value, _ in members)
            undecided: list[str] = []
            if value == UNKNOWN:
                for member_value, paths in members:
                    if member_value == UNKNOWN:
                        undecided.extend(path for path in paths if path not in undecided)
            return value, undecided
        if "condition" in node:
            return self.evaluate(self.conditions[node["condition"]])
        if "gate" in node:
            return self.gates[node["gate"]]
        if "level" in node:
            name, operand = fact_operator(node)
            return (TRUE if COMPARE[name](self.levels[node["level"]], operand) else FALSE), []
        name, operand = fact_operator(node)
        value = self.value_of(node["fact"])
        if value is None:
            return (FALSE, []) if name == "present" else (UNKNOWN, [node["fact"]])
        return (TRUE if fact_holds(name, operand, value) else FALSE), []
