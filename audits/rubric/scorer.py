"""Generate one Python function per rubric that reads the facts and scores every criterion.

Why generate code: evaluating a criterion through the engine's closures costs about
2.5 µs in call overhead alone, so 21 criteria cannot fit the 50 µs an assessment may take
(ISSUE 4: ≥ 20,000/s on one core). Written out as straight-line Python, with every fact read
once into a local variable, each named condition evaluated once and every band an inline
comparison, the same rubric scores in a few microseconds.

The function computes only what the scores depend on: each criterion's level, whether it
applies and whether evidence is missing, which gates fire and each category's (integer)
score numerator. The closures in engine.py
stay the reference: they write the explanations when a result's criteria are first read,
and the engine checks there that both give the same levels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audits.rubric.schema import BOOLEAN, ENUM, KNOWN_FACTS, LIST, NUMBER, diagnostic_metric

# values (aligned with fact_paths, None when missing), diagnostic sources by path, then per
# criterion: level, applicable, missing evidence; per gate: fired; per category: the
# numerator of its score.
Scored = tuple[
    tuple[Any, ...],
    dict[str, str],
    tuple[int, ...],
    tuple[bool, ...],
    tuple[bool, ...],
    tuple[bool, ...],
    tuple[int, ...],
]
Scorer = Callable[[Mapping[str, Any]], Scored]

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


class _Writer:
    """Lines of generated source, and the constants (maps, sets) they refer to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}_{len(self.constants)}"
        self.constants[name] = value
        return name


def _local_names(prefix: str, keys: Sequence[str]) -> dict[str, str]:
    """Readable, unique Python names: `training.task_families` -> `fact_training_task_families`."""
    names: dict[str, str] = {}
    for index, key in enumerate(keys):
        name = prefix + "_" + re.sub(r"\W+", "_", key, flags=re.ASCII).strip("_")
        if not name.isidentifier() or name in names.values():
            name = f"{prefix}_{index}"
        names[key] = name
    return names


class _ScorerSource:
    """Writes the scoring function for one validated rubric's content."""

    def __init__(
        self,
        content: Mapping[str, Any],
        fact_paths: Sequence[str],
        category_coefficients: Sequence[Mapping[str, int]],
    ) -> None:
        self.content = content
        self.fact_paths = fact_paths
        self.category_coefficients = category_coefficients
        self.named: Mapping[str, Any] = content.get("conditions") or {}
        self.facts = _local_names("fact", fact_paths)
        self.conditions = _local_names("condition", list(self.named))
        self.levels = _local_names("level", [c["id"] for c in content["criteria"]])
        self.gates = _local_names("gate", [g["id"] for g in content["gates"]])
        self.out = _Writer()

    def condition(self, node: Mapping[str, Any]) -> str:
        """A Python expression for a condition; one that reads a missing fact is false."""
        if "all" in node:
            return "(" + " and ".join(self.condition(member) for member in node["all"]) + ")"
        if "any" in node:
            return "(" + " or ".join(self.condition(member) for member in node["any"]) + ")"
        if "condition" in node:
            return self.conditions[node["condition"]]
        if "gate" in node:
            return self.gates[node["gate"]]
        if "level" in node:
            ((operator, operand),) = [(key, node[key]) for key in node if key != "level"]
            return f"{self.levels[node['level']]} {_COMPARISONS[operator]} {_literal(operand)}"
        ((operator, operand),) = [(key, node[key]) for key in node if key != "fact"]
        fact = self.facts[node["fact"]]
        if operator == "present":
            return f"{fact} is not None"
        if operator == "eq":
            return f"{fact} == {_literal(operand)}"
        if operator == "in":
            return f"{fact} in {self.out.constant('members', frozenset(operand))}"
        if operator == "not_in":
            excluded = self.out.constant("excluded", frozenset(operand))
            return f"({fact} is not None and {fact} not in {excluded})"
        if operator == "contains":
            return f"({fact} is not None and {_literal(operand)} in {fact})"
        if operator == "contains_any":
            wanted = self.out.constant("wanted", frozenset(operand))
            return f"({fact} is not None and not {wanted}.isdisjoint({fact}))"
        return f"({fact} is not None and {fact} {_COMPARISONS[operator]} {_literal(operand)})"

    def fact_level(self, spec: Mapping[str, Any], fact: str) -> str:
        """An expression for the level (or delta) a present fact gives through a map or bands."""
        if "map" in spec:
            if KNOWN_FACTS[spec["fact"]].kind == BOOLEAN:
                return f"({int(spec['map']['true'])} if {fact} else {int(spec['map']['false'])})"
            return f"{self.out.constant('levels', dict(spec['map']))}[{fact}]"
        # Bands are contiguous and ascending (the schema checks), so each is "below its upper
        # bound" once the earlier ones are ruled out.
        expression = str(int(spec["bands"][-1]["level"]))
        for band in reversed(spec["bands"][:-1]):
            if "at_most" in band:
                test = f"{fact} <= {_literal(band['at_most'])}"
            else:
                test = f"{fact} < {_literal(band['max'])}"
            expression = f"{int(band['level'])} if {test} else {expression}"
        return f"({expression})"

    def criterion(self, spec: Mapping[str, Any]) -> None:
        write = self.out.line
        level = self.levels[spec["id"]]
        suffix = level.removeprefix("level_")
        applicable, missing = f"applicable_{suffix}", f"missing_{suffix}"
        write(1, "# " + " ".join(f"{spec['id']} {spec['name']}".split()))  # one line, always
        depth = 1
        if "applies_when" in spec:
            write(1, f"if {self.condition(spec['applies_when'])}:")
            depth = 2
        write(depth, f"{applicable} = True")
        write(depth, f"{level} = 0")
        for signal in spec["signals"]:
            fact = self.facts[signal["fact"]]
            test = f"{fact} is not None"
            if "when" in signal:
                test += f" and {self.condition(signal['when'])}"
            write(depth, f"if {test}:")
            write(depth + 1, f"signal = {self.fact_level(signal, fact)}")
            write(depth + 1, f"if signal > {level}:")
            write(depth + 2, f"{level} = signal")
        for adjustment in spec.get("adjustments", ()):
            if "map" in adjustment:
                fact = self.facts[adjustment["fact"]]
                write(depth, f"if {fact} is not None:")
                write(depth + 1, f"{level} += {self.fact_level(adjustment, fact)}")
            else:
                write(depth, f"if {self.condition(adjustment['when'])}:")
                write(depth + 1, f"{level} += {int(adjustment['delta'])}")
        write(depth, f"if {level} < 0:")
        write(depth + 1, f"{level} = 0")
        write(depth, f"elif {level} > {int(spec['max_level'])}:")
        write(depth + 1, f"{level} = {int(spec['max_level'])}")
        write(depth, f"{missing} = {self.missing_evidence(spec)}")
        write(depth, f"if {missing} and {level} < {int(spec['missing_level'])}:")
        write(depth + 1, f"{level} = {int(spec['missing_level'])}")
        if "applies_when" in spec:
            write(1, "else:")
            write(2, f"{applicable} = {missing} = False")
            write(2, f"{level} = 0")

    def missing_evidence(self, spec: Mapping[str, Any]) -> str:
        """An expression: does some applicable requirement have none of its facts present?"""
        requirements = [
            ((part["fact"],), part.get("when"))
            for part in (*spec["signals"], *spec.get("adjustments", ()))
            if part.get("required")
        ]
        requirements += [
            (tuple(group["facts"]), group.get("when")) for group in spec.get("requires_any", ())
        ]
        tests = []
        for paths, when in requirements:
            absent = [f"{self.facts[path]} is None" for path in paths]
            if when is not None:
                absent.insert(0, self.condition(when))
            tests.append("(" + " and ".join(absent) + ")")
        return " or ".join(tests) if tests else "False"

    def read_facts(self) -> None:
        """Every fact into its local (None when missing), refusing values outside the schema."""
        write = self.out.line
        sections: dict[str, list[str]] = {}
        diagnostics: dict[str, str] = {}
        for path in self.fact_paths:
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

    def function(self) -> str:
        write = self.out.line
        write(0, "def score(facts):")
        self.read_facts()
        for name, node in self._named_in_order():
            write(1, f"{self.conditions[name]} = {self.condition(node)}")
        for spec in self.content["criteria"]:
            self.criterion(spec)
        for gate in self.content["gates"]:
            write(1, f"{self.gates[gate['id']]} = {self.condition(gate['when'])}")
        numerators = []
        for coefficients in self.category_coefficients:
            terms = [f"{coefficient} * {self.levels[i]}" for i, coefficient in coefficients.items()]
            numerators.append(" + ".join(terms) or "0")
        ids = [spec["id"] for spec in self.content["criteria"]]
        suffixes = [self.levels[i].removeprefix("level_") for i in ids]
        write(1, "return (")
        write(2, "(" + ", ".join(self.facts[p] for p in self.fact_paths) + ",),")
        write(2, "sources,")
        write(2, "(" + ", ".join(self.levels[i] for i in ids) + ",),")
        write(2, "(" + ", ".join(f"applicable_{s}" for s in suffixes) + ",),")
        write(2, "(" + ", ".join(f"missing_{s}" for s in suffixes) + ",),")
        write(2, "(" + ", ".join(self.gates.values()) + ",),")
        write(2, "(" + ", ".join(numerators) + ",),")
        write(1, ")")
        return "\n".join(self.out.lines) + "\n"

    def _named_in_order(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Named conditions, each after those it refers to (the schema forbids cycles)."""
        ordered: dict[str, Mapping[str, Any]] = {}

        def visit(name: str) -> None:
            if name in ordered:
                return
            stack = [self.named[name]]
            while stack:
                node = stack.pop()
                if "condition" in node:
                    visit(node["condition"])
                stack.extend(node.get("all", ()) or node.get("any", ()))
            ordered[name] = self.named[name]

        for name in self.named:
            visit(name)
        return list(ordered.items())


def build_scorer(
    content: Mapping[str, Any],
    fact_paths: Sequence[str],
    category_coefficients: Sequence[Mapping[str, int]],
    namespace: Mapping[str, Any],
) -> tuple[Scorer, str]:
    """The scoring function for a validated rubric's content, and its source text.

    `fact_paths` are all the facts the rubric reads (the order of the returned values);
    each category's score numerator is Σ coefficient × level over its criteria (by id);
    `namespace` supplies `FactsError`, `Mapping` and `refused(value, path)`.
    """
    writer = _ScorerSource(content, fact_paths, category_coefficients)
    source = writer.function()
    scope = {**namespace, **writer.out.constants}
    # Rubric content reaches the source only as identifiers made by _local_names, int(),
    # _literal() or repr() of strings, and comments on one line; maps and sets are passed
    # as constants.
    exec(compile(source, "<rubric scorer>", "exec"), scope)  # noqa: S102
    scorer: Scorer = scope["score"]
    return scorer, source
