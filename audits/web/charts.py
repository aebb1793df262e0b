"""The portfolio's SVG charts, drawn server-side as text (no script, no external resource).

Colours are the report's tier colours, so a tier looks the same on screen and on paper.
Every chart carries a title and a text equivalent (`aria-label` plus a table in the page).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

from audits.reports.charts import TIER_COLOURS
from audits.selectors import TIER_ORDER

INK = "#1b1f24"
MUTED = "#59626d"
RULE = "#d5dae0"
ACCENT = "#1f4e79"
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"


def _n(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _open(width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="100%" style="max-width: {_n(width * 1.15)}px" '
        f'preserveAspectRatio="xMinYMin meet" font-family={quoteattr(FONT)} '
        f'font-size="12" role="img" aria-label={quoteattr(label)}>'
    )


def _safe(svg: str) -> SafeString:
    # Every label above goes through escape()/quoteattr(); the rest are numbers.
    return mark_safe(svg)  # noqa: S308


def tier_legend() -> list[tuple[str, str]]:
    return [(tier, TIER_COLOURS[tier]) for tier in TIER_ORDER]


def stacked_bars_svg(rows: Mapping[str, Counter[str]], *, label: str) -> SafeString:
    """One horizontal bar per row (a lab), split by tier, with the count at the end."""
    if not rows:
        return _safe("")
    label_width, track, row_height, top = 170.0, 380.0, 26.0, 6.0
    width = label_width + track + 40
    height = top + row_height * len(rows) + 4
    most = max(sum(counter.values()) for counter in rows.values()) or 1
    parts = [_open(width, height, label)]
    for index, (name, counter) in enumerate(rows.items()):
        y = top + index * row_height
        parts.append(f'<text x="0" y="{_n(y + 15)}" fill="{INK}">{escape(name[:26])}</text>')
        x = label_width
        for tier in TIER_ORDER:
            count = counter.get(tier, 0)
            if not count:
                continue
            bar = track * count / most
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(y + 3)}" width="{_n(bar)}" height="16" '
                f'fill="{TIER_COLOURS[tier]}"><title>{escape(name)}: {count} {tier}</title></rect>'
            )
            if bar >= 16:
                parts.append(
                    f'<text x="{_n(x + bar / 2)}" y="{_n(y + 15)}" text-anchor="middle" '
                    f'fill="#ffffff" font-size="11">{count}</text>'
                )
            x += bar
        parts.append(
            f'<text x="{_n(x + 6)}" y="{_n(y + 15)}" fill="{MUTED}">{sum(counter.values())}</text>'
        )
    parts.append("</svg>")
    return _safe("".join(parts))


def stacked_columns_svg(columns: Mapping[str, Counter[str]], *, label: str) -> SafeString:
    """One column per period (a month), split by tier, lowest tier at the bottom."""
    if not columns:
        return _safe("")
    left, bottom, plot_height, top = 28.0, 24.0, 150.0, 8.0
    column_width = 34.0
    gap = 18.0
    width = left + (column_width + gap) * len(columns) + gap
    height = top + plot_height + bottom
    most = max(sum(counter.values()) for counter in columns.values()) or 1
    parts = [_open(max(width, 480.0), height, label)]
    base = top + plot_height
    for tick in sorted({0, most // 2, most}):
        y = base - plot_height * tick / most
        parts.append(
            f'<line x1="{_n(left)}" x2="{_n(width)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{RULE}" stroke-width="1"/>'
            f'<text x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end" fill="{MUTED}" '
            f'font-size="11">{tick}</text>'
        )
    for index, (period, counter) in enumerate(columns.items()):
        x = left + gap + index * (column_width + gap)
        y = base
        for tier in TIER_ORDER:
            count = counter.get(tier, 0)
            if not count:
                continue
            bar = plot_height * count / most
            y -= bar
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(column_width)}" height="{_n(bar)}" '
                f'fill="{TIER_COLOURS[tier]}"><title>{escape(period)}: {count} {tier}</title>'
                "</rect>"
            )
        parts.append(
            f'<text x="{_n(x + column_width / 2)}" y="{_n(base + 16)}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="11">{escape(period)}</text>'
        )
    parts.append("</svg>")
    return _safe("".join(parts))


def ranked_bars_svg(items: Sequence[tuple[str, int]], *, total: int, label: str) -> SafeString:
    """Horizontal bars of counts out of `total` (criteria most often at level 3)."""
    if not items:
        return _safe("")
    label_width, track, row_height, top = 200.0, 330.0, 24.0, 4.0
    width = label_width + track + 70
    height = top + row_height * len(items) + 4
    parts = [_open(width, height, label)]
    for index, (name, count) in enumerate(items):
        y = top + index * row_height
        bar = track * count / max(total, 1)
        parts.append(
            f'<text x="0" y="{_n(y + 14)}" fill="{INK}">{escape(name[:30])}</text>'
            f'<rect x="{_n(label_width)}" y="{_n(y + 3)}" width="{_n(track)}" height="14" '
            f'fill="#eef1f4"/>'
            f'<rect x="{_n(label_width)}" y="{_n(y + 3)}" width="{_n(bar)}" height="14" '
            f'fill="{TIER_COLOURS["critical"]}"/>'
            f'<text x="{_n(label_width + track + 6)}" y="{_n(y + 14)}" fill="{MUTED}">'
            f"{count} of {total}</text>"
        )
    parts.append("</svg>")
    return _safe("".join(parts))


def coverage_svg(
    coverage_by_lab: Mapping[str, float], *, threshold: float, label: str
) -> SafeString:
    """Average evidence coverage per lab on 0–100 %, with the insufficiency threshold."""
    if not coverage_by_lab:
        return _safe("")
    label_width, track, row_height, top = 170.0, 380.0, 26.0, 20.0
    width = label_width + track + 56
    height = top + row_height * len(coverage_by_lab) + 6
    parts = [_open(width, height, label)]
    x_threshold = label_width + track * threshold
    parts.append(
        f'<line x1="{_n(x_threshold)}" x2="{_n(x_threshold)}" y1="{_n(top - 6)}" '
        f'y2="{_n(height)}" stroke="{INK}" stroke-dasharray="3 3" stroke-width="1"/>'
        f'<text x="{_n(x_threshold)}" y="{_n(top - 9)}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="11">{round(threshold * 100)} % minimum</text>'
    )
    for index, (name, coverage) in enumerate(coverage_by_lab.items()):
        y = top + index * row_height
        colour = ACCENT if coverage >= threshold else TIER_COLOURS["high"]
        parts.append(
            f'<text x="0" y="{_n(y + 15)}" fill="{INK}">{escape(name[:26])}</text>'
            f'<rect x="{_n(label_width)}" y="{_n(y + 3)}" width="{_n(track)}" height="16" '
            f'fill="#eef1f4"/>'
            f'<rect x="{_n(label_width)}" y="{_n(y + 3)}" width="{_n(track * coverage)}" '
            f'height="16" fill="{colour}"/>'
            f'<text x="{_n(label_width + track + 6)}" y="{_n(y + 15)}" fill="{MUTED}">'
            f"{round(coverage * 100)} %</text>"
        )
    parts.append("</svg>")
    return _safe("".join(parts))
