"""Vector (SVG) charts for the report, drawn as text so they print sharply at any size.

Every number and label comes from the stored assessment and the rubric content; the same
inputs give the same SVG text, which keeps the PDF byte-identical across renderings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from audits.intake.catalogue import CATALOGUE

# RUBRIC.md's tiers, used only when a rubric's content does not state its own.
DEFAULT_TIERS: tuple[tuple[str, float], ...] = (
    ("low", 0),
    ("moderate", 25),
    ("high", 45),
    ("critical", 65),
)
TIER_COLOURS = {
    "low": "#2f6b3a",
    "moderate": "#8a6100",
    "high": "#b4470f",
    "critical": "#8c1d2c",
}
TIER_TINTS = {
    "low": "#e3eee4",
    "moderate": "#f6ecd2",
    "high": "#f8dfcf",
    "critical": "#f1d3d6",
}
LEVEL_TINTS = ("#dfeadf", "#f4e8c4", "#f3d3bb", "#eab9bd")
INK = "#1b1f24"
MUTED = "#5b6470"
RULE = "#b9c0c8"
FONT = "IBM Plex Sans, sans-serif"


def _number(value: float) -> str:
    """A coordinate as short, stable text (no float noise such as 0.30000000000000004)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_measure(value: float | None) -> str:
    """A diagnostic value as the report prints it."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3f}".rstrip("0").rstrip(".")


def tier_thresholds(rubric_content: Mapping[str, Any] | None) -> list[tuple[str, float]]:
    """The rubric's tiers as (id, minimum score), lowest first."""
    tiers = (rubric_content or {}).get("tiers")
    if isinstance(tiers, list) and tiers:
        try:
            return sorted(((str(t["id"]), float(t["min"])) for t in tiers), key=lambda t: t[1])
        except (KeyError, TypeError, ValueError):
            pass
    return list(DEFAULT_TIERS)


def risk_profile_svg(
    categories: Sequence[Mapping[str, Any]],
    *,
    overall_score: float,
    tier: str,
    tiers: Sequence[tuple[str, float]],
) -> str:
    """Horizontal bars, one per category and one for the overall score, on the tier scale."""
    label_width, track_width, value_width = 250.0, 330.0, 60.0
    row, top = 30.0, 28.0
    width = label_width + track_width + value_width
    rows = [(str(c.get("title") or c.get("id")), float(c.get("score") or 0)) for c in categories]
    rows.append(("Overall score", float(overall_score)))
    height = top + row * len(rows) + 26

    def x_of(score: float) -> float:
        return label_width + track_width * max(0.0, min(score, 100.0)) / 100.0

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" '
        f'height="{_number(height)}" viewBox="0 0 {_number(width)} {_number(height)}" '
        f'font-family={quoteattr(FONT)} font-size="10" role="img" '
        'aria-label="Risk profile by category">'
    ]
    # The tier scale behind the bars, so a reader sees which tier each score falls in.
    bounds = [*tiers[1:], ("", 100.0)]
    for (tier_id, low), (_, high) in zip(tiers, bounds, strict=True):
        x0, x1 = x_of(low), x_of(high)
        parts.append(
            f'<rect x="{_number(x0)}" y="{_number(top - 6)}" width="{_number(x1 - x0)}" '
            f'height="{_number(row * len(rows) + 4)}" fill="{TIER_TINTS.get(tier_id, "#eee")}"/>'
        )
        parts.append(
            f'<text x="{_number((x0 + x1) / 2)}" y="{_number(top - 12)}" text-anchor="middle" '
            f'fill="{TIER_COLOURS.get(tier_id, MUTED)}" font-weight="600">'
            f"{escape(tier_id.capitalize())}</text>"
        )
    for index, (label, score) in enumerate(rows):
        y = top + index * row
        overall = index == len(rows) - 1
        if overall:
            parts.append(
                f'<line x1="0" x2="{_number(width)}" y1="{_number(y - 3)}" '
                f'y2="{_number(y - 3)}" stroke="{RULE}" stroke-width="0.6"/>'
            )
        colour = TIER_COLOURS.get(tier if overall else _tier_of(score, tiers), INK)
        parts.append(
            f'<text x="0" y="{_number(y + 14)}" fill="{INK}"'
            f"{' font-weight=' + quoteattr('600') if overall else ''}>{escape(label[:48])}</text>"
        )
        parts.append(
            f'<rect x="{_number(label_width)}" y="{_number(y + 5)}" '
            f'width="{_number(x_of(score) - label_width)}" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{_number(width)}" y="{_number(y + 14)}" text-anchor="end" '
            f'fill="{INK}" font-weight="600">{score:.2f}</text>'
        )
    axis_y = top + row * len(rows)
    for tick in (0, 25, 50, 75, 100):
        x = x_of(tick)
        parts.append(
            f'<line x1="{_number(x)}" x2="{_number(x)}" y1="{_number(axis_y - 2)}" '
            f'y2="{_number(axis_y + 2)}" stroke="{MUTED}" stroke-width="0.6"/>'
            f'<text x="{_number(x)}" y="{_number(axis_y + 13)}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="8">{tick}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _tier_of(score: float, tiers: Sequence[tuple[str, float]]) -> str:
    found = tiers[0][0] if tiers else "low"
    for tier_id, minimum in tiers:
        if score >= minimum:
            found = tier_id
    return found


@dataclass(frozen=True)
class Band:
    """One band of a rubric signal: values in [low, high) give `level` (None = unbounded)."""

    low: float | None
    high: float | None
    level: int

    @property
    def label(self) -> str:
        if self.low is None and self.high is not None:
            return f"< {format_measure(self.high)}"
        if self.high is None and self.low is not None:
            return f"≥ {format_measure(self.low)}"
        if self.low is not None and self.high is not None:
            if self.low == self.high:
                return f"= {format_measure(self.low)}"
            return f"{format_measure(self.low)}–{format_measure(self.high)}"
        return "any value"


@dataclass(frozen=True)
class MetricBands:
    """The bands the rubric applies to one diagnostic, and the criterion that reads it."""

    metric: str
    criterion: str
    bands: tuple[Band, ...]


def diagnostic_bands(rubric_content: Mapping[str, Any] | None) -> dict[str, MetricBands]:
    """Bands per catalogue metric from the rubric's signals (`fact: diagnostics[<id>]`).

    A metric read by several criteria keeps the first criterion's bands, in rubric order.
    Anything malformed is skipped: the chart then shows the value without bands.
    """
    found: dict[str, MetricBands] = {}
    criteria = (rubric_content or {}).get("criteria")
    if not isinstance(criteria, list):
        return found
    for criterion in criteria:
        if not isinstance(criterion, Mapping):
            continue
        for signal in criterion.get("signals") or []:
            if not isinstance(signal, Mapping):
                continue
            fact = str(signal.get("fact") or "")
            if not (fact.startswith("diagnostics[") and fact.endswith("]")):
                continue
            metric = fact[len("diagnostics[") : -1]
            raw_bands = signal.get("bands")
            if metric in found or not isinstance(raw_bands, list):
                continue
            bands = []
            try:
                for raw in raw_bands:
                    low = raw.get("min", raw.get("above"))
                    high = raw.get("max", raw.get("at_most"))
                    bands.append(
                        Band(
                            None if low is None else float(low),
                            None if high is None else float(high),
                            int(raw["level"]),
                        )
                    )
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
            found[metric] = MetricBands(metric, str(criterion.get("id", "")), tuple(bands))
    return found


def _domain(metric: str, points: Sequence[float], bands: Sequence[Band]) -> tuple[float, float]:
    entry = CATALOGUE.get(metric)
    if entry is not None and entry.unit == "fraction":
        return 0.0, 1.0
    edges = [edge for band in bands for edge in (band.low, band.high) if edge is not None]
    everything = [*points, *edges, 0.0]
    low, high = min(everything), max(everything)
    if bands and any(band.high is None for band in bands) and edges:
        high = max(high, max(edges) * 1.25 if max(edges) > 0 else 1.0)
    if entry is not None and entry.unit == "percentage_points":
        low, high = max(low, -100.0), min(max(high, 1.0), 100.0)
    if high <= low:
        high = low + 1.0
    return low, high + (high - low) * 0.02


def diagnostics_chart_svg(rows: Sequence[Mapping[str, Any]]) -> str:
    """One chart row per diagnostic: the rubric's bands shaded by level (when the rubric
    has them), the value as a dot and its confidence interval as a line.

    Each row dict has `metric`, `value`, `ci_low`, `ci_high` and `bands` (a sequence of
    Band, possibly empty); each row has its own scale, printed at both ends.
    """
    label_width, track_width, value_width = 220.0, 330.0, 90.0
    row, top = 24.0, 4.0
    width = label_width + track_width + value_width
    height = top + row * len(rows) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" '
        f'height="{_number(height)}" viewBox="0 0 {_number(width)} {_number(height)}" '
        f'font-family={quoteattr(FONT)} font-size="9" role="img" '
        'aria-label="Diagnostics against the rubric bands">'
    ]
    for index, entry in enumerate(rows):
        y = top + index * row
        metric = str(entry.get("metric") or "")
        value = entry.get("value")
        ci_low, ci_high = entry.get("ci_low"), entry.get("ci_high")
        bands: Sequence[Band] = entry.get("bands") or ()
        numbers = [
            float(v)
            for v in (value, ci_low, ci_high)
            if isinstance(v, int | float) and math.isfinite(v)
        ]
        low, high = _domain(metric, numbers, bands)

        def x_of(v: float, low: float = low, high: float = high) -> float:
            clamped = max(low, min(v, high))
            return label_width + track_width * (clamped - low) / (high - low)

        parts.append(
            f'<text x="0" y="{_number(y + 13)}" fill="{INK}">{escape(_shorten(metric, 44))}</text>'
        )
        track_y = y + 6
        parts.append(
            f'<rect x="{_number(label_width)}" y="{_number(track_y)}" '
            f'width="{_number(track_width)}" height="10" fill="#f3f4f6" stroke="{RULE}" '
            'stroke-width="0.4"/>'
        )
        for band in bands:
            x0 = x_of(band.low if band.low is not None else low)
            x1 = x_of(band.high if band.high is not None else high)
            if x1 - x0 <= 0:
                continue
            tint = LEVEL_TINTS[max(0, min(band.level, len(LEVEL_TINTS) - 1))]
            parts.append(
                f'<rect x="{_number(x0)}" y="{_number(track_y)}" width="{_number(x1 - x0)}" '
                f'height="10" fill="{tint}"/>'
            )
        if isinstance(ci_low, int | float) and isinstance(ci_high, int | float):
            xl, xh = x_of(float(ci_low)), x_of(float(ci_high))
            cy = track_y + 5
            parts.append(
                f'<line x1="{_number(xl)}" x2="{_number(xh)}" y1="{_number(cy)}" '
                f'y2="{_number(cy)}" stroke="{INK}" stroke-width="1.2"/>'
                f'<line x1="{_number(xl)}" x2="{_number(xl)}" y1="{_number(cy - 3.5)}" '
                f'y2="{_number(cy + 3.5)}" stroke="{INK}" stroke-width="1"/>'
                f'<line x1="{_number(xh)}" x2="{_number(xh)}" y1="{_number(cy - 3.5)}" '
                f'y2="{_number(cy + 3.5)}" stroke="{INK}" stroke-width="1"/>'
            )
        if isinstance(value, int | float) and math.isfinite(value):
            parts.append(
                f'<circle cx="{_number(x_of(float(value)))}" cy="{_number(track_y + 5)}" '
                f'r="3.2" fill="{INK}" stroke="#ffffff" stroke-width="0.8"/>'
            )
        parts.append(
            f'<text x="{_number(label_width)}" y="{_number(track_y + 17)}" fill="{MUTED}" '
            f'font-size="6.5">{escape(format_measure(low))}</text>'
            f'<text x="{_number(label_width + track_width)}" y="{_number(track_y + 17)}" '
            f'text-anchor="end" fill="{MUTED}" font-size="6.5">'
            f"{escape(format_measure(high))}</text>"
        )
        shown = format_measure(float(value)) if isinstance(value, int | float) else "—"
        parts.append(
            f'<text x="{_number(width)}" y="{_number(y + 14)}" text-anchor="end" fill="{INK}" '
            f'font-weight="600">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
