"""Generate, per rubric, the Python functions that read facts and score them.

Why generate code: evaluating a criterion through closures costs about 2.5 µs in call
overhead alone; written out as straight-line Python, with every fact read once into a
local variable and each named condition evaluated once, the 21 criteria of the
mesa-optimization rubric score in a few microseconds. The generated module holds:

- `read(facts)`: every fact the rubric reads, in `plan.fact_paths` order (None when
  missing), refusing values outside the filing schema; and the diagnostics' sources.
- `criteria(values)`: per criterion its level, its applicability (TRUE, FALSE, or UNKNOWN
  when a precautionary rubric could not decide it: then it applies, with missing
  evidence) and whether evidence is missing; and every condition site's three-valued
  result, from which the explanations are written without deciding anything again.
- `settle(values, levels)`: the one scoring of levels — category numerators, overall
  numerator, tier before gates, gates, tier. `assess` and `apply_overrides` both use it.
- `band_<n>(value)`: the index of the band a value falls in, for each banded signal. The
  scorer, the explanations and `diagnostic_scales` all place values with these.

Conditions are three-valued integers (conditions.py); a precautionary rubric reads a
missing fact as UNKNOWN, combines with min/max (Kleene) and resolves UNKNOWN by the site's
polarity. A rubric that ignores missing facts (1.0.0) reads them as FALSE, and its
conditions only ever hold TRUE or FALSE, so `and`/`or` compute the same and short-circuit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audits.rubric.conditions import FALSE, TRUE, UNKNOWN, fact_operator
from audits.rubric.plan import CriterionPlan, RubricPlan, SignalPlan
from audits.rubric.scoring import ScoreArithmetic
from audits.rubric.vocabulary import BOOLEAN, ENUM, KNOWN_FACTS, LIST, NUMBER, diagnostic_metric

_COMPARISONS = {"eq": "==", "ne": "!=", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}

# A present value must fit the filing schema; `{v}` is the local, `{allowed}` its values.
_FITS = {
    ENUM: "{v}.__class__ is str and {v} in {allowed}",
    NUMBER: "({v}.__class__ is float or {v}.__class__ is int)",
    BOOLEAN: "({v} is True or {v} is False)",
    LIST: "isinstance({v}, (list, tuple)) and {allowed}.issuperset({v})",
}


def _literal(value: Any) -> str:
    # repr round-trips exactly for these types (floats included), so the generated
    # comparison uses the very number the rubric file holds.
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"cannot write {value!r} into generated code")


def local_names(prefix: str, keys: Sequence[str]) -> dict[str, str]:
    """Readable, unique Python names: `training.task_families` -> `fact_training_task_families`."""
    names: dict[str, str] = {}
    for index, key in enumerate(keys):
        name = prefix + "_" + re.sub(r"\W+", "_", key, flags=re.ASCII).strip("_")
        if not name.isidentifier() or name in names.values():
            name = f"{prefix}_{index}"
        names[key] = name
    return names


class SourceText:
    """Lines of generated source, and the constants (maps, sets) they refer to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.indent = 0  # added to every depth, to nest a block written at depth 1

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * (depth + self.indent) + text)

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}_{len(self.constants)}"
        self.constants[name] = value
        return name


class _ScorerWriter:
    """Writes the scoring module for one rubric plan."""

    def __init__(self, plan: RubricPlan, arithmetic: ScoreArithmetic) -> None:
        self.plan = plan
        self.arithmetic = arithmetic
        self.missing = UNKNOWN if plan.precautionary else FALSE  # a leaf reading a missing fact
        self.facts = local_names("fact", plan.fact_paths)
        self.conditions = local_names("condition", list(plan.conditions))
        self.levels = local_names("level", [c.id for c in plan.criteria])
        self.gates = local_names("gate", [g.id for g in plan.gates])
        self.out = SourceText()

    # ---------------------------------------------------------------- conditions

    def condition(self, node: Mapping[str, Any]) -> str:
        """A Python expression for a condition's three-valued result (conditions.py)."""
        for key, combine in (("all", ("min", " and ")), ("any", ("max", " or "))):
            if key in node:
                members = [self.condition(member) for member in node[key]]
                if len(members) == 1:
                    return members[0]
                if self.plan.precautionary:
                    return f"{combine[0]}({', '.join(members)})"
                return "(" + combine[1].join(members) + ")"
        if "condition" in node:
            return self.conditions[node["condition"]]
        if "gate" in node:
            return self.gates[node["gate"]]
        name, operand = fact_operator(node)
        if "level" in node:
            test = f"{self.levels[node['level']]} {_COMPARISONS[name]} {_literal(operand)}"
            return f"({TRUE} if {test} else {FALSE})"
        fact = self.facts[node["fact"]]
        if name == "present":
            return f"({TRUE} if {fact} is not None else {FALSE})"
        if name in ("in", "not_in"):
            listed = self.out.constant("members", frozenset(operand))
            test = f"{fact} {'in' if name == 'in' else 'not in'} {listed}"
        elif name == "contains":
            test = f"{_literal(operand)} in {fact}"
        elif name == "contains_any":
            test = f"not {self.out.constant('wanted', frozenset(operand))}.isdisjoint({fact})"
        else:
            test = f"{fact} {_COMPARISONS[name]} {_literal(operand)}"
        return f"({self.missing} if {fact} is None else {TRUE} if {test} else {FALSE})"

    def named_conditions(self, depth: int, wanted: set[str] | None = None) -> None:
        """Named conditions (those in `wanted`, or all), each after those it refers to."""
        ordered: dict[str, None] = {}

        def visit(name: str) -> None:
            if name in ordered:
                return
            stack = [self.plan.conditions[name]]
            while stack:
                node = stack.pop()
                if "condition" in node:
                    visit(node["condition"])
                stack.extend(node.get("all", ()) or node.get("any", ()))
            ordered[name] = None

        for name in self.plan.conditions:
            if wanted is None or name in wanted:
                visit(name)
        for name in ordered:
            self.out.line(
                depth, f"{self.conditions[name]} = {self.condition(self.plan.conditions[name])}"
            )

    def site(self, depth: int, index: int) -> str:
        """Assigns a site's result to its local; returns the local's name."""
        name = f"site_{index}"
        self.out.line(depth, f"{name} = {self.condition(self.plan.sites[index].condition)}")
        return name

    # ---------------------------------------------------------------- criteria

    def fact_level(self, signal: SignalPlan, fact: str) -> str:
        """An expression for the level a present fact gives through a map or bands."""
        if signal.levels is not None:
            if KNOWN_FACTS[signal.path].kind == BOOLEAN:
                return f"({signal.levels[True]} if {fact} else {signal.levels[False]})"
            return f"{self.out.constant('levels', dict(signal.levels))}[{fact}]"
        levels = self.out.constant("band_levels", tuple(int(b["level"]) for b in signal.bands))
        return f"{levels}[band_{signal.band}({fact})]"

    def criterion(self, criterion: CriterionPlan) -> None:
        write = self.out.line
        level = self.levels[criterion.id]
        suffix = level.removeprefix("level_")
        applicability, missing = f"applicability_{suffix}", f"missing_{suffix}"
        write(1, "# " + " ".join(f"{criterion.id} {criterion.name}".split()))  # one line, always
        depth = 1
        if criterion.applies_site is not None:
            applies = self.site(1, criterion.applies_site)
            write(1, f"if {applies}:")
            depth = 2
            write(depth, f"{applicability} = {applies}")
        else:
            write(depth, f"{applicability} = {TRUE}")
        write(depth, f"{level} = 0")
        for signal in criterion.signals:
            self.signal(depth, signal, level)
        for adjustment in criterion.adjustments:
            if adjustment.path is not None:
                fact = self.facts[adjustment.path]
                deltas = self.out.constant("deltas", dict(adjustment.deltas or {}))
                write(depth, f"if {fact} is not None:")
                write(depth + 1, f"{level} += {deltas}[{fact}]")
                if self.plan.precautionary:
                    write(depth, "else:")
                    write(depth + 1, f"{level} += {adjustment.largest}")
            else:
                assert adjustment.site is not None
                holds = self.site(depth, adjustment.site)
                test = holds if adjustment.delta > 0 else f"{holds} == {TRUE}"
                write(depth, f"if {test}:")
                write(depth + 1, f"{level} += {adjustment.delta}")
        write(depth, f"if {level} < 0:")
        write(depth + 1, f"{level} = 0")
        write(depth, f"elif {level} > {criterion.max_level}:")
        write(depth + 1, f"{level} = {criterion.max_level}")
        # Only a missing required fact raises the level to the missing level (RUBRIC.md); an
        # undecided applicability is missing evidence too, but raising its level would let
        # deciding it (a riskier fact) lower the level.
        write(depth, f"lacking = {self.missing_evidence(depth, criterion)}")
        write(depth, f"if lacking and {level} < {criterion.missing_level}:")
        write(depth + 1, f"{level} = {criterion.missing_level}")
        if self.plan.precautionary and criterion.applies_site is not None:
            write(depth, f"{missing} = lacking or {applicability} == {UNKNOWN}")
        else:
            write(depth, f"{missing} = lacking")
        if criterion.applies_site is not None:
            write(1, "else:")
            write(2, f"{applicability} = {FALSE}")
            write(2, f"{missing} = False")
            write(2, f"{level} = 0")
            for site in criterion.sites[1:]:
                write(2, f"site_{site} = {FALSE}")

    def signal(self, depth: int, signal: SignalPlan, level: str) -> None:
        write = self.out.line
        fact = self.facts[signal.path]
        if signal.site is not None:
            holds = self.site(depth, signal.site)
            write(depth, f"if {holds}:")
            depth += 1
        write(depth, f"if {fact} is not None:")
        write(depth + 1, f"signal = {self.fact_level(signal, fact)}")
        write(depth + 1, f"if signal > {level}:")
        write(depth + 2, f"{level} = signal")
        if self.plan.precautionary:
            write(depth, f"elif {level} < {signal.highest}:")
            write(depth + 1, f"{level} = {signal.highest}")

    def missing_evidence(self, depth: int, criterion: CriterionPlan) -> str:
        """An expression: does an active requirement lack all of its facts? (A required
        signal's requirement shares the signal's site; a required group's own site is
        assigned here.)"""
        assigned = {signal.site for signal in criterion.signals}
        tests = []
        for group in criterion.requirements:
            absent = [f"{self.facts[path]} is None" for path in group.paths]
            if group.site is not None:
                if group.site not in assigned:
                    self.site(depth, group.site)
                absent.insert(0, f"site_{group.site} != {FALSE}")
            tests.append("(" + " and ".join(absent) + ")")
        return " or ".join(tests) if tests else "False"

    # ---------------------------------------------------------------- reading facts

    def read(self) -> None:
        """Every fact into its local (None when missing), refusing values outside the schema."""
        write = self.out.line
        write(0, "def read(facts):")
        sections: dict[str, list[str]] = {}
        diagnostics: dict[str, str] = {}
        for path in self.plan.fact_paths:
            metric = diagnostic_metric(path)
            if metric is None:
                sections.setdefault(path.partition(".")[0], []).append(path)
            else:
                diagnostics[metric] = path
        for section, paths in sections.items():
            write(1, f"block = facts.get({section!r})")
            write(1, "if block:")
            # isinstance() against an ABC costs a microsecond; facts are nearly always dicts.
            write(2, "if block.__class__ is not dict and not isinstance(block, Mapping):")
            write(3, f"raise FactsError('expected a mapping of facts', path={section!r})")
            for path in paths:
                fact, kind = self.facts[path], KNOWN_FACTS[path]
                allowed = self.out.constant("allowed", frozenset(kind.allowed))
                fits = _FITS.get(kind.kind, "isinstance({v}, str)").format(v=fact, allowed=allowed)
                write(2, f"{fact} = block.get({path.partition('.')[2]!r})")
                write(2, f"if {fact} is not None and not ({fits}):")
                write(3, f"raise refused({fact}, {path!r})")
            write(1, "else:")
            write(2, " = ".join(self.facts[path] for path in paths) + " = None")
        # At most one value per metric: the first entry wins, even when its value is empty.
        wanted = self.out.constant("diagnostic_paths", diagnostics)
        write(1, "sources = {}")
        write(1, "diagnostic_values = {}")
        write(1, "diagnostics = facts.get('diagnostics')")
        write(1, "if diagnostics:")
        write(2, "for entry in diagnostics:")
        write(3, f"path = {wanted}.get(entry.get('metric'))")
        write(3, "if path is None or path in diagnostic_values:")
        write(4, "continue")
        write(3, "value = diagnostic_values[path] = entry.get('value')")
        write(3, "if value is None:")
        write(4, "continue")
        write(3, "if value.__class__ is not float and value.__class__ is not int:")
        write(4, "raise FactsError(f'{value!r} is not a number', path=path)")
        write(3, "source = entry.get('source')")
        write(3, "if source:")
        write(4, "sources[path] = str(source)")
        for path in diagnostics.values():
            write(1, f"{self.facts[path]} = diagnostic_values.get({path!r})")
        write(1, f"return ({''.join(self.facts[p] + ', ' for p in self.plan.fact_paths)}), sources")

    # ---------------------------------------------------------------- the functions

    def bands(self) -> None:
        """One function per banded signal: the index of the band a (present) value is in.

        Bands are contiguous and ascending (the schema checks), so each is "below its upper
        bound" once the earlier ones are ruled out.
        """
        for signal in self.plan.banded:
            expression = str(len(signal.bands) - 1)
            for index in reversed(range(len(signal.bands) - 1)):
                band = signal.bands[index]
                if "at_most" in band:
                    test = f"value <= {_literal(band['at_most'])}"
                else:
                    test = f"value < {_literal(band['max'])}"
                expression = f"{index} if {test} else {expression}"
            self.out.line(0, f"def band_{signal.band}(value):  # {signal.path}")
            self.out.line(1, f"return {expression}")
            self.out.line(0, "")

    def criteria(self) -> None:
        write = self.out.line
        write(0, "def criteria(values):")
        write(1, f"({''.join(self.facts[p] + ', ' for p in self.plan.fact_paths)}) = values")
        self.named_conditions(1)
        for criterion in self.plan.criteria:
            self.criterion(criterion)
        ids = [self.levels[c.id].removeprefix("level_") for c in self.plan.criteria]
        write(1, "return (")
        write(2, "(" + "".join(f"level_{s}, " for s in ids) + "),")
        write(2, "(" + "".join(f"applicability_{s}, " for s in ids) + "),")
        write(2, "(" + "".join(f"missing_{s}, " for s in ids) + "),")
        write(2, "(" + "".join(f"site_{i}, " for i in range(len(self.plan.sites))) + "),")
        write(1, ")")

    def settle(self) -> None:
        """levels -> category numerators -> overall -> tier before gates -> gates -> tier."""
        write = self.out.line
        arithmetic = self.arithmetic
        write(0, "def settle(values, levels):")
        write(1, f"({''.join(self.levels[c.id] + ', ' for c in self.plan.criteria)}) = levels")
        gate_paths: list[str] = []
        named: set[str] = set()
        for gate in self.plan.gates:
            self._collect(gate.when, gate_paths, named)
        for path in dict.fromkeys(gate_paths):
            write(1, f"{self.facts[path]} = values[{self.plan.fact_paths.index(path)}]")
        self.named_conditions(1, named)
        numerators = []
        for index, category in enumerate(arithmetic.categories):
            terms = [
                f"{coefficient} * {self.levels[self.plan.criteria[member].id]}"
                for member, coefficient in category.coefficients.items()
            ]
            write(1, f"numerator_{index} = {' + '.join(terms) or '0'}")
            numerators.append(f"numerator_{index}")
        shares = [
            f"{c.share} * {numerator}"
            for c, numerator in zip(arithmetic.categories, numerators, strict=True)
        ]
        write(1, f"overall = {' + '.join(shares)}")
        tier = "0"
        for index, (denominator, scaled_minimum) in enumerate(arithmetic.tier_thresholds):
            if index:
                tier = f"{index} if overall * {denominator} >= {scaled_minimum} else {tier}"
        write(1, f"tier = before = {tier}")
        for gate in self.plan.gates:
            name = self.gates[gate.id]
            minimum = arithmetic.tier_ids.index(gate.min_tier)
            write(1, f"{name} = {self.condition(gate.when)}")
            write(1, f"if {name} and tier < {minimum}:")
            write(2, f"tier = {minimum}")
        write(1, "return (")
        write(2, "(" + "".join(f"{n}, " for n in numerators) + "),")
        write(2, "overall, before, tier,")
        write(2, "(" + "".join(f"{self.gates[g.id]}, " for g in self.plan.gates) + "),")
        write(1, ")")

    def _collect(self, node: Mapping[str, Any], paths: list[str], named: set[str]) -> None:
        if "fact" in node:
            paths.append(node["fact"])
        for member in node.get("all", ()) or node.get("any", ()):
            self._collect(member, paths, named)
        if "condition" in node and node["condition"] not in named:
            named.add(node["condition"])
            self._collect(self.plan.conditions[node["condition"]], paths, named)

    def module(self) -> str:
        self.bands()
        self.read()
        self.out.line(0, "")
        self.criteria()
        self.out.line(0, "")
        self.settle()
        return "\n".join(self.out.lines) + "\n"


class GeneratedScorer:
    """The generated functions of one rubric, and their source text (for reading)."""

    def __init__(
        self, plan: RubricPlan, arithmetic: ScoreArithmetic, namespace: Mapping[str, Any]
    ) -> None:
        writer = _ScorerWriter(plan, arithmetic)
        self.source = writer.module()
        scope = {**namespace, **writer.out.constants}
        # Rubric content reaches the source only as identifiers made by _local_names, int(),
        # _literal() or repr() of strings, and comments on one line; maps and sets are passed
        # as constants.
        exec(compile(self.source, "<rubric scorer>", "exec"), scope)  # noqa: S102
        self.read: Callable[[Mapping[str, Any]], tuple[tuple[Any, ...], dict[str, str]]]
        self.read = scope["read"]
        self.criteria: Callable[[tuple[Any, ...]], tuple[tuple[Any, ...], ...]]
        self.criteria = scope["criteria"]
        self.settle: Callable[[tuple[Any, ...], tuple[int, ...]], tuple[Any, ...]]
        self.settle = scope["settle"]
        self.bands: tuple[Callable[[Any], int], ...] = tuple(
            scope[f"band_{signal.band}"] for signal in plan.banded
        )
