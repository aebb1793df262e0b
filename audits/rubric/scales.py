"""Where a diagnostic value falls on the rubric's scale, as the engine itself decides it.

The portal and the report place a value in a band by asking the compiled rubric, never by
reading the bands out of the rubric file: `level_of` and `band_of` call the very band
function the scorer uses, so `scheming.in_context_rate = 0` is in the band `≤ 0` (level 0)
on every page because that is where the engine puts it.

    scales = diagnostic_scales(rubric)            # a Rubric or a CompiledRubric
    scale = scales["scheming.in_context_rate"]
    scale.criterion, scale.criteria               # "D5", ("D5",)
    [band.label for band in scale.bands]          # ["≤ 0", "> 0–0.02", "0.02–0.1", "≥ 0.1"]
    scale.level_of(0.0), scale.band_of(0.0)       # 0, the band "≤ 0"

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audits.rubric.conditions import condition_facts
from audits.rubric.engine import CompiledRubric, compiled
from audits.rubric.explain import format_value
from audits.rubric.loader import Rubric
from audits.rubric.vocabulary import diagnostic_metric


@dataclass(frozen=True)
class ScaleBand:
    """One band: the values between its bounds (None: unbounded) give `level`."""

    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    level: int

    @property
    def label(self) -> str:
        """The band as RUBRIC.md writes it: "< 0.6", "0.6–0.75", "> 0–0.02", "≤ 0", "≥ 0.9"."""
        lower = None if self.lower is None else format_value(self.lower)
        upper = None if self.upper is None else format_value(self.upper)
        if lower is None and upper is None:
            return "any value"
        if lower is None:
            return f"{'≤' if self.upper_inclusive else '<'} {upper}"
        if upper is None:
            return f"{'≥' if self.lower_inclusive else '>'} {lower}"
        start = lower if self.lower_inclusive else f"> {lower}"
        end = f"≤ {upper}" if self.upper_inclusive else upper
        return f"{start}–{end}"

    def contains(self, value: float) -> bool:
        above = (
            self.lower is None
            or value > self.lower
            or (self.lower_inclusive and value == self.lower)
        )
        below = (
            self.upper is None
            or value < self.upper
            or (self.upper_inclusive and value == self.upper)
        )
        return above and below


@dataclass(frozen=True)
class DiagnosticScale:
    """How a rubric reads one catalogue diagnostic.

    `criteria`: every criterion that reads the metric, in rubric order. `criterion` and
    `bands` (ascending values, the display order): the first signal that places the metric
    in bands, or None and () when the rubric only tests it in conditions (e.g. T2's
    "defection probe AUROC ≥ 0.95").
    """

    metric: str
    criteria: tuple[str, ...]
    criterion: str | None
    bands: tuple[ScaleBand, ...]
    _band_index: Callable[[Any], int] | None = field(repr=False, compare=False)

    def band_of(self, value: float) -> ScaleBand | None:
        """The band the engine places `value` in (None when the metric has no bands)."""
        if self._band_index is None:
            return None
        return self.bands[self._band_index(value)]

    def level_of(self, value: float) -> int | None:
        """The level the engine's signal gives `value` (None when the metric has no bands)."""
        band = self.band_of(value)
        return None if band is None else band.level


def _scale_band(spec: dict[str, Any]) -> ScaleBand:
    lower = spec.get("min", spec.get("above"))
    upper = spec.get("max", spec.get("at_most"))
    # The bounds as the rubric writes them (0, not 0.0), for labels that read like RUBRIC.md.
    return ScaleBand(lower, "min" in spec, upper, "at_most" in spec, int(spec["level"]))


def diagnostic_scales(rubric: Rubric | CompiledRubric) -> dict[str, DiagnosticScale]:
    """Every catalogue diagnostic the rubric reads, by metric id, in the order the rubric
    first reads them; see DiagnosticScale."""
    engine = compiled(rubric)
    plan = engine.plan
    readers: dict[str, list[str]] = {}
    banded: dict[str, tuple[str, Any]] = {}
    for criterion in plan.criteria:
        paths = [signal.path for signal in criterion.signals]
        paths += [part.path for part in criterion.adjustments if part.path is not None]
        paths += [path for group in criterion.requirements for path in group.paths]
        for site in criterion.sites:
            paths += condition_facts(plan.sites[site].condition, plan.conditions)
        for path in paths:
            metric = diagnostic_metric(path)
            if metric is not None and criterion.id not in readers.setdefault(metric, []):
                readers[metric].append(criterion.id)
        for signal in criterion.signals:
            metric = diagnostic_metric(signal.path)
            if metric is not None and signal.band is not None and metric not in banded:
                banded[metric] = (criterion.id, signal)
    scales = {}
    for metric, criteria in readers.items():
        if metric in banded:
            criterion_id, signal = banded[metric]
            scales[metric] = DiagnosticScale(
                metric,
                tuple(criteria),
                criterion_id,
                tuple(_scale_band(spec) for spec in signal.bands),
                engine.scorer.bands[signal.band],
            )
        else:
            scales[metric] = DiagnosticScale(metric, tuple(criteria), None, (), None)
    return scales
