"""Each criterion's explanation, used facts and missing evidence, from the scorer's decisions.

The generated scorer decides every level, applicability, missing evidence and condition
(scorer.py). The functions generated here only put those decisions into the rubric's
words: they print the scorer's level, follow the condition results it returned, place a
value in a band with the scorer's own band functions, and ask conditions.py which missing
facts left a condition undecided. Under a precautionary rubric every place where a missing
fact decided something toward higher risk says so ("training.compute_flop is not supplied
(read as 3)") and lists the fact under `precautionary_facts`.

Generated rather than interpreted for the same reason as the scorer: the portal stores every
assessment with its explanations, and a loop over each criterion's parts costs three times
the straight-line code (benchmarks/README.md). Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from audits.rubric.conditions import TRUE, UNKNOWN, UndecidedReader, condition_facts
from audits.rubric.plan import (
    AdjustmentPlan,
    CriterionPlan,
    RequirementPlan,
    RubricPlan,
    SignalPlan,
)
from audits.rubric.scorer import SourceText, local_names
from audits.rubric.wording import Wording, format_value

# explain_<n>(values, applicability, level, missing, sites, sources) -> stored criterion, where
# `sources[path]` is the text naming where a fact came from
Explainer = Callable[..., dict[str, Any]]


def _delta(delta: int) -> str:
    return f"{delta:+d}"


class _ExplanationWriter:
    """Writes one explanation function per criterion of a rubric plan."""

    def __init__(self, plan: RubricPlan, wording: Wording) -> None:
        self.plan = plan
        self.wording = wording
        self.precautionary = plan.precautionary
        self.position = {path: index for index, path in enumerate(plan.fact_paths)}
        self.facts = local_names("fact", plan.fact_paths)
        self.out = SourceText()
        self.reused: set[str] = set()  # facts one criterion may list more than once

    def constant(self, prefix: str, value: Any) -> str:
        return self.out.constant(prefix, value)

    def template(self, key: str, signature: Sequence[str], **bound: Any) -> str:
        return self.constant(key, self.wording.template(key, signature, bound))

    def criterion(self, criterion: CriterionPlan) -> None:
        write = self.out.line
        arguments = "values, applicability, level, missing, sites, sources"
        write(0, f"def explain_{criterion.index}({arguments}):")
        read = self._paths_read(criterion)
        for path in read:
            write(1, f"{self.facts[path]} = values[{self.position[path]}]")
        if criterion.applies is not None:
            write(1, "if not applicability:")
            self.not_applicable(criterion)
        for name in ("reasons", "facts", "risk", "missing_facts", "evidence"):
            write(1, f"{name} = []")
        write(1, "lacking = False  # a required fact is missing")
        uses = [signal.path for signal in criterion.signals]
        uses += [part.path for part in criterion.adjustments if part.path is not None]
        for part in criterion.adjustments:
            if part.when is not None:
                uses += condition_facts(part.when, self.plan.conditions)
        self.reused = {path for path in uses if uses.count(path) > 1}
        for path in self.reused:
            write(1, f"listed_{self.facts[path]} = False")
        applicability = "'applicable'"
        if self.precautionary and criterion.applies_site is not None:
            applicability = f"'undecided' if applicability == {UNKNOWN} else 'applicable'"
            undecided = self.template(
                "undecided", ("missing",), applies_text=criterion.applies_text
            )
            write(1, f"if applicability == {UNKNOWN}:")
            write(2, f"undecided = undecided_facts(values, {criterion.applies_site}, risk)")
            write(2, f"reasons.append({undecided}(missing_text(undecided)))")
            write(2, "missing_facts.extend(undecided)")
            write(2, "evidence.append(resolve_every(undecided))")
        for signal in criterion.signals:
            self.signal(signal)
        for adjustment in criterion.adjustments:
            self.adjustment(adjustment)
        for group in criterion.requirements:
            self.requirement(group)
        render_missing = self.template(
            "missing_evidence",
            ("level", "reasons", "evidence"),
            missing_level=criterion.missing_level,
        )
        templates = self.wording.templates
        write(1, f"reason_text = '; '.join(reasons) if reasons else {templates['no_signal']!r}")
        write(1, "if missing:")
        write(2, f"evidence_text = {self.wording.separator!r}.join(evidence)")
        if self.precautionary and criterion.applies_site is not None:
            # Evidence missing only because applicability is undecided raises no level.
            undecided = self.template("evidence_undecided", ("level", "reasons", "evidence"))
            write(2, "if lacking:")
            write(3, f"explanation = {render_missing}(level, reason_text, evidence_text)")
            write(2, "else:")
            write(3, f"explanation = {undecided}(level, reason_text, evidence_text)")
        else:
            write(2, f"explanation = {render_missing}(level, reason_text, evidence_text)")
        write(2, f"to_resolve = {self.template('to_resolve', ('evidence',))}(evidence_text)")
        write(1, "else:")
        write(
            2,
            f"explanation = {self.template('assessed', ('level', 'reasons'))}(level, reason_text)",
        )
        write(2, "to_resolve = None")
        self.result(
            1, criterion, "level", "True", applicability, "missing", "explanation", "to_resolve"
        )
        write(0, "")

    def _paths_read(self, criterion: CriterionPlan) -> list[str]:
        paths = [path for site in criterion.sites for path in self._site_facts(site)]
        paths += [signal.path for signal in criterion.signals]
        paths += [part.path for part in criterion.adjustments if part.path is not None]
        paths += [path for group in criterion.requirements for path in group.paths]
        return list(dict.fromkeys(paths))

    def _site_facts(self, site: int) -> list[str]:
        return condition_facts(self.plan.sites[site].condition, self.plan.conditions)

    def result(self, depth: int, criterion: CriterionPlan, *dynamic: str) -> None:
        """`return {...}`: the stored criterion, its varying entries given as expressions."""
        level, applicable, applicability, missing, explanation, to_resolve = dynamic
        write = self.out.line
        write(depth, "return {")
        for key, value in (
            ("id", repr(criterion.id)),
            ("name", repr(criterion.name)),
            ("category", repr(criterion.category)),
            ("level", level),
            ("max_level", repr(criterion.max_level)),
            ("weight", repr(criterion.weight)),
            ("applicable", applicable),
            ("applicability", applicability),
            ("missing_evidence", missing),
            ("missing_facts", "missing_facts"),
            ("precautionary_facts", "risk"),
            ("explanation", explanation),
            ("rationale", repr(criterion.rationale)),
            ("reference", repr(criterion.reference)),
            ("facts", "facts"),
            ("to_resolve", to_resolve),
        ):
            write(depth + 1, f"{key!r}: {value},")
        write(depth, "}")

    # ---------------------------------------------------------------- parts

    def use(self, depth: int, path: str) -> None:
        """List a fact the level was read from, once."""
        write = self.out.line
        fact = self.facts[path]
        entry = f"{{'path': {path!r}, 'value': {fact}, 'source': sources[{path!r}]}}"
        if path in self.reused:
            write(depth, f"if not listed_{fact}:")
            write(depth + 1, f"listed_{fact} = True")
            depth += 1
        write(depth, f"facts.append({entry})")

    def read_as_risk(self, depth: int, path: str, text: str) -> None:
        """A missing fact read toward higher risk: say so, and list it."""
        write = self.out.line
        write(depth, f"reasons.append({text!r})")
        write(depth, f"if {path!r} not in risk:")
        write(depth + 1, f"risk.append({path!r})")

    def signal(self, signal: SignalPlan) -> None:
        write = self.out.line
        fact = self.facts[signal.path]
        depth = 1
        if signal.site is not None:
            write(depth, f"holds = sites[{signal.site}]")
            write(depth, "if holds:")
            depth += 1
        write(depth, f"if {fact} is not None:")
        if signal.levels is not None:
            render = self.wording.template("signal", ("value", "level"), {"path": signal.path})
            fragments = {
                value: render(format_value(value), level) for value, level in signal.levels.items()
            }
            describe = f"{self.constant('fragments', fragments)}[{fact}]"
            level = f"{self.constant('levels', dict(signal.levels))}[{fact}]"
        else:
            render_name = self.template("signal", ("value", "level"), path=signal.path)
            band_levels = self.constant("band_levels", tuple(int(b["level"]) for b in signal.bands))
            level = f"{band_levels}[band_{signal.band}({fact})]"
            describe = f"{render_name}(format_value({fact}), {level})"
        if signal.site is not None and self.precautionary:
            assumed = self.template(
                "signal_assumed", ("value", "level", "missing"), path=signal.path
            )
            write(depth + 1, f"if holds == {TRUE}:")
            write(depth + 2, f"reasons.append({describe})")
            write(depth + 1, "else:")
            because = f"missing_text(undecided_facts(values, {signal.site}, risk))"
            write(depth + 2, f"reasons.append({assumed}(format_value({fact}), {level}, {because}))")
        else:
            write(depth + 1, f"reasons.append({describe})")
        self.use(depth + 1, signal.path)
        if self.precautionary:
            write(depth, "else:")
            text = self.wording.text("signal_missing", path=signal.path, level=signal.highest)
            self.read_as_risk(depth + 1, signal.path, text)

    def adjustment(self, adjustment: AdjustmentPlan) -> None:
        write = self.out.line
        if adjustment.path is not None:
            fact = self.facts[adjustment.path]
            render = self.wording.template(
                "adjustment", ("value", "delta"), {"path": adjustment.path}
            )
            fragments = {
                value: render(format_value(value), _delta(delta))
                for value, delta in (adjustment.deltas or {}).items()
            }
            write(1, f"if {fact} is not None:")
            write(2, f"reasons.append({self.constant('fragments', fragments)}[{fact}])")
            self.use(2, adjustment.path)
            if self.precautionary:
                write(1, "else:")
                text = self.wording.text(
                    "adjustment_missing", path=adjustment.path, delta=_delta(adjustment.largest)
                )
                self.read_as_risk(2, adjustment.path, text)
            return
        site = adjustment.site
        delta = _delta(adjustment.delta)
        fragment = self.wording.text("conditional_adjustment", text=adjustment.text, delta=delta)
        read = condition_facts(adjustment.when or {}, self.plan.conditions)
        write(1, f"holds = sites[{site}]")
        write(1, f"if holds == {TRUE}:")
        write(2, f"reasons.append({fragment!r})")
        self.use_present(2, read)
        if not self.precautionary:
            return
        because = f"missing_text(undecided_facts(values, {site}, risk))"
        write(1, f"elif holds == {UNKNOWN}:")
        if adjustment.delta > 0:  # a positive place: UNKNOWN holds
            assumed = self.template(
                "conditional_assumed", ("missing",), text=adjustment.text, delta=delta
            )
            write(2, f"reasons.append({assumed}({because}))")
            self.use_present(2, read)
        else:
            unproven = self.template(
                "conditional_unproven", ("missing",), text=adjustment.text, delta=delta
            )
            write(2, f"reasons.append({unproven}({because}))")

    def use_present(self, depth: int, paths: Sequence[str]) -> None:
        for path in paths:
            self.out.line(depth, f"if {self.facts[path]} is not None:")
            self.use(depth + 1, path)

    def requirement(self, group: RequirementPlan) -> None:
        write = self.out.line
        absent = [f"{self.facts[path]} is None" for path in group.paths]
        if group.site is not None:
            absent.insert(0, f"sites[{group.site}]")
        write(1, f"if {' and '.join(absent)}:")
        if group.site is not None and self.precautionary:
            assumed = self.template(
                "requirement_assumed", ("missing",), evidence=self.wording.resolve(group.paths)
            )
            because = f"missing_text(undecided_facts(values, {group.site}, risk))"
            write(2, f"if sites[{group.site}] == {UNKNOWN}:")
            write(3, f"reasons.append({assumed}({because}))")
        write(2, "lacking = True")
        for path in group.paths:
            write(2, f"if {path!r} not in missing_facts:")
            write(3, f"missing_facts.append({path!r})")
        write(2, f"evidence.append({self.wording.resolve(group.paths)!r})")

    def not_applicable(self, criterion: CriterionPlan) -> None:
        write = self.out.line
        write(2, "described = []")
        write(2, "facts = []")
        for path in condition_facts(criterion.applies or {}, self.plan.conditions):
            fact = self.facts[path]
            value = self.template("fact_value", ("value",), path=path)
            write(2, f"if {fact} is None:")
            write(3, f"described.append({self.wording.text('fact_missing', path=path)!r})")
            write(2, "else:")
            write(3, f"described.append({value}(format_value({fact})))")
            write(
                3,
                f"facts.append({{'path': {path!r}, 'value': {fact}, 'source': sources[{path!r}]}})",
            )
        render = self.template("not_applicable", ("values",), applies_text=criterion.applies_text)
        write(2, "missing_facts = []")
        write(2, "risk = []")
        explanation = f"{render}(', '.join(described))"
        self.result(2, criterion, "0", "False", "'not_applicable'", "False", explanation, "None")


class GeneratedExplainers:
    """The explanation functions of one rubric (one per criterion), and their source text."""

    def __init__(
        self, plan: RubricPlan, wording: Wording, bands: Sequence[Callable[[Any], int]]
    ) -> None:
        writer = _ExplanationWriter(plan, wording)
        for criterion in plan.criteria:
            writer.criterion(criterion)
        self.source = "\n".join(writer.out.lines) + "\n"
        position = writer.position

        def undecided_facts(values: tuple[Any, ...], site: int, risk: list[str]) -> list[str]:
            """The missing facts that left a site's condition undecided, added to `risk`."""
            reader = UndecidedReader(plan.conditions, lambda path: values[position[path]])
            paths = reader.evaluate(plan.sites[site].condition)[1]
            risk.extend(path for path in paths if path not in risk)
            return paths

        scope: dict[str, Any] = {
            **writer.out.constants,
            **{f"band_{index}": band for index, band in enumerate(bands)},
            "format_value": format_value,
            "missing_text": wording.missing,
            "resolve_every": partial(wording.resolve, every=True),
            "undecided_facts": undecided_facts,
        }
        # Rubric text reaches the source only through repr() (string literals) and the
        # names made by local_names; templates and maps are passed as constants.
        exec(compile(self.source, "<rubric explanations>", "exec"), scope)  # noqa: S102
        self.functions: tuple[Explainer, ...] = tuple(
            scope[f"explain_{criterion.index}"] for criterion in plan.criteria
        )


def gates_read_as_risk(
    rubric: RubricPlan,
    values: tuple[Any, ...],
    levels: Sequence[int],
    raws: Sequence[int],
) -> list[list[str]]:
    """Per gate, the missing facts that made it hold under a precautionary rubric ([] for a
    gate decided by the facts supplied, or that does not hold)."""
    if UNKNOWN not in raws:
        return [[] for _ in raws]
    position = {path: index for index, path in enumerate(rubric.fact_paths)}
    known: dict[str, tuple[int, list[str]]] = {}
    reader = UndecidedReader(
        rubric.conditions,
        lambda path: values[position[path]],
        {criterion.id: level for criterion, level in zip(rubric.criteria, levels, strict=True)},
        known,
    )
    found = []
    for gate, raw in zip(rubric.gates, raws, strict=True):
        paths = reader.evaluate(gate.when)[1] if raw == UNKNOWN else []
        known[gate.id] = (raw, paths)
        found.append(paths)
    return found
