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

from audits.rubric.conditions import TRUE, UNKNOWN, condition_facts, undecided_facts
from audits.rubric.plan import (
    AdjustmentPlan,
    CriterionPlan,
    RequirementPlan,
    RubricPlan,
    SignalPlan,
)
from audits.rubric.scorer import SourceText, local_names
from audits.rubric.vocabulary import KNOWN_FACTS, NUMBER
from audits.rubric.wording import Wording, compile_template, format_value

# explain(values, applicabilities, levels, missings, sites, sources) -> every criterion's
# stored form, in rubric order; `sources[path]` names where a present fact came from.
Explainer = Callable[..., list[dict[str, Any]]]


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

    def render(self, key: str, fields: dict[str, str], **bound: Any) -> str:
        """Source rendering template `key`, each field's value given as source."""
        return self.wording.expression(key, fields, **bound)

    def value_text(self, path: str) -> str:
        """Source for a present fact's value as explanations show it (format_value)."""
        fact = self.facts[path]
        if KNOWN_FACTS[path].kind == NUMBER:  # finite (the facts hash refuses others)
            return f"(str({fact}) if -1e6 < {fact} < 1e6 else format_value({fact}))"
        return f"format_value({fact})"

    def function(self) -> None:
        """One function for every criterion: the facts are read into locals once."""
        write = self.out.line
        write(0, "def explain(values, applicabilities, levels, missings, sites, sources):")
        write(1, f"({''.join(self.facts[p] + ', ' for p in self.plan.fact_paths)}) = values")
        write(1, "criteria = []")
        for criterion in self.plan.criteria:
            self.criterion(criterion)
        write(1, "return criteria")

    def criterion(self, criterion: CriterionPlan) -> None:
        """A criterion's block: its stored form appended to `criteria`."""
        write = self.out.line
        write(1, "# " + " ".join(f"{criterion.id} {criterion.name}".split()))  # one line
        write(1, f"applicability = applicabilities[{criterion.index}]")
        write(1, f"level = levels[{criterion.index}]")
        write(1, f"missing = missings[{criterion.index}]")
        if criterion.applies is not None:
            write(1, "if not applicability:")
            self.not_applicable(criterion)
            write(1, "else:")
            self.out.indent = 1
        self.body(criterion)
        self.out.indent = 0

    def body(self, criterion: CriterionPlan) -> None:
        write = self.out.line
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
            undecided = self.render(
                "undecided",
                {"missing": "missing_text(undecided)"},
                applies_text=criterion.applies_text,
            )
            write(1, f"if applicability == {UNKNOWN}:")
            write(2, f"undecided = undecided_facts(values, {criterion.applies_site}, risk)")
            write(2, f"reasons.append({undecided})")
            write(2, "missing_facts.extend(undecided)")
            write(2, "evidence.append(resolve_every(undecided))")
        for signal in criterion.signals:
            self.signal(signal)
        for adjustment in criterion.adjustments:
            self.adjustment(adjustment)
        for group in criterion.requirements:
            self.requirement(group)
        fields = {"level": "level", "reasons": "reason_text", "evidence": "evidence_text"}
        render_missing = self.render(
            "missing_evidence", fields, missing_level=criterion.missing_level
        )
        templates = self.wording.templates
        write(1, f"reason_text = '; '.join(reasons) if reasons else {templates['no_signal']!r}")
        write(1, "if missing:")
        write(2, f"evidence_text = {self.wording.separator!r}.join(evidence)")
        if self.precautionary and criterion.applies_site is not None:
            # Evidence missing only because applicability is undecided raises no level.
            write(2, "if lacking:")
            write(3, f"explanation = {render_missing}")
            write(2, "else:")
            write(3, f"explanation = {self.render('evidence_undecided', fields)}")
        else:
            write(2, f"explanation = {render_missing}")
        write(2, f"to_resolve = {self.render('to_resolve', {'evidence': 'evidence_text'})}")
        write(1, "else:")
        assessed = self.render("assessed", {"level": "level", "reasons": "reason_text"})
        write(2, f"explanation = {assessed}")
        write(2, "to_resolve = None")
        self.result(
            1, criterion, "level", "True", applicability, "missing", "explanation", "to_resolve"
        )

    def result(self, depth: int, criterion: CriterionPlan, *dynamic: str) -> None:
        """The stored criterion appended, its varying entries given as expressions."""
        level, applicable, applicability, missing, explanation, to_resolve = dynamic
        write = self.out.line
        write(depth, "criteria.append({")
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
        write(depth, "})")

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
            render = compile_template(
                self.wording.templates["signal"], ("value", "level"), {"path": signal.path}
            )
            fragments = {
                value: render(format_value(value), level) for value, level in signal.levels.items()
            }
            describe = f"{self.constant('fragments', fragments)}[{fact}]"
            level = f"{self.constant('levels', dict(signal.levels))}[{fact}]"
        else:
            band_levels = self.constant("band_levels", tuple(int(b["level"]) for b in signal.bands))
            level = f"{band_levels}[band_{signal.band}({fact})]"
            describe = self.render(
                "signal", {"value": self.value_text(signal.path), "level": level}, path=signal.path
            )
        if signal.site is not None and self.precautionary:
            because = f"missing_text(undecided_facts(values, {signal.site}, risk))"
            assumed = self.render(
                "signal_assumed",
                {"value": self.value_text(signal.path), "level": level, "missing": because},
                path=signal.path,
            )
            write(depth + 1, f"if holds == {TRUE}:")
            write(depth + 2, f"reasons.append({describe})")
            write(depth + 1, "else:")
            write(depth + 2, f"reasons.append({assumed})")
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
            render = compile_template(
                self.wording.templates["adjustment"], ("value", "delta"), {"path": adjustment.path}
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
        key = "conditional_assumed" if adjustment.delta > 0 else "conditional_unproven"
        reason = self.render(key, {"missing": because}, text=adjustment.text, delta=delta)
        write(2, f"reasons.append({reason})")
        if adjustment.delta > 0:  # a positive place: UNKNOWN holds, the delta applies
            self.use_present(2, read)

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
            because = f"missing_text(undecided_facts(values, {group.site}, risk))"
            assumed = self.render(
                "requirement_assumed",
                {"missing": because},
                evidence=self.wording.resolve(group.paths),
            )
            write(2, f"if sites[{group.site}] == {UNKNOWN}:")
            write(3, f"reasons.append({assumed})")
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
            value = self.render("fact_value", {"value": self.value_text(path)}, path=path)
            write(2, f"if {fact} is None:")
            write(3, f"described.append({self.wording.text('fact_missing', path=path)!r})")
            write(2, "else:")
            write(3, f"described.append({value})")
            write(
                3,
                f"facts.append({{'path': {path!r}, 'value': {fact}, 'source': sources[{path!r}]}})",
            )
        explanation = self.render(
            "not_applicable",
            {"values": "', '.join(described)"},
            applies_text=criterion.applies_text,
        )
        write(2, "missing_facts = []")
        write(2, "risk = []")
        self.result(2, criterion, "0", "False", "'not_applicable'", "False", explanation, "None")


class GeneratedExplainers:
    """The explanation function of one rubric, and its source text."""

    def __init__(
        self, plan: RubricPlan, wording: Wording, bands: Sequence[Callable[[Any], int]]
    ) -> None:
        writer = _ExplanationWriter(plan, wording)
        writer.function()
        self.source = "\n".join(writer.out.lines) + "\n"
        readers = [
            undecided_facts(site.condition, plan.conditions, writer.position) for site in plan.sites
        ]

        def undecided_at(values: tuple[Any, ...], site: int, risk: list[str]) -> list[str]:
            """The missing facts that left a site's condition undecided, added to `risk`."""
            paths = readers[site](values, {}, {})[1]
            risk.extend(path for path in paths if path not in risk)
            return paths

        scope: dict[str, Any] = {
            **writer.out.constants,
            **{f"band_{index}": band for index, band in enumerate(bands)},
            "format_value": format_value,
            "missing_text": wording.missing,
            "resolve_every": partial(wording.resolve, every=True),
            "undecided_facts": undecided_at,
        }
        # Rubric text reaches the source only through repr() (string literals) and the
        # names made by local_names; templates and maps are passed as constants.
        exec(compile(self.source, "<rubric explanations>", "exec"), scope)  # noqa: S102
        self.explain: Explainer = scope["explain"]


class GateReasons:
    """Per gate, the missing facts that made it hold under a precautionary rubric."""

    def __init__(self, plan: RubricPlan) -> None:
        self.plan = plan
        position = {path: index for index, path in enumerate(plan.fact_paths)}
        self.readers = [
            undecided_facts(gate.when, plan.conditions, position) for gate in plan.gates
        ]

    def read_as_risk(
        self, values: tuple[Any, ...], levels: Sequence[int], raws: Sequence[int]
    ) -> list[list[str]]:
        """[] for a gate the facts supplied decided, or that does not hold."""
        if UNKNOWN not in raws:
            return [[] for _ in raws]
        by_id = {
            criterion.id: level for criterion, level in zip(self.plan.criteria, levels, strict=True)
        }
        known: dict[str, tuple[int, list[str]]] = {}
        found = []
        for gate, reader, raw in zip(self.plan.gates, self.readers, raws, strict=True):
            paths = reader(values, by_id, known)[1] if raw == UNKNOWN else []
            known[gate.id] = (raw, paths)
            found.append(paths)
        return found
