"""What the portal's pages show, shaped from stored rows: no queries, no writes.

The assessment, facts and diagnostics come out of the services as JSON documents; these
functions turn them into rows a template can lay out (grouped, labelled, with the charts
the report uses), so templates stay free of logic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from django.utils.safestring import SafeString, mark_safe

from audits.intake.catalogue import CATALOGUE
from audits.intake.filing import filing_schema, schema_leaf_paths
from audits.intake.types import describe_location
from audits.models import Comment, Override
from audits.reports import charts
from audits.reports.markdown import narrative_sections

LEVEL_LABELS = {0: "No concern", 1: "Low", 2: "Elevated", 3: "Severe"}
SECTION_TITLES = {
    "model": "Model",
    "training": "Training",
    "deployment": "Deployment",
    "transparency": "Transparency",
}


def humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fact_label(path: str) -> str:
    """`training.environment_diversity` -> `Training › Environment diversity`."""
    section, _, name = path.partition(".")
    return f"{SECTION_TITLES.get(section, humanize(section))} › {humanize(name)}"


def format_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "—"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


# --- The assessment ------------------------------------------------------------------------


@dataclass
class Gap:
    """One thing a lab can supply to resolve missing evidence of a criterion."""

    criterion: str
    criterion_name: str
    level: int
    kind: str  # "diagnostic" or "fact"
    target: str  # the metric id or the fact path
    label: str
    to_resolve: str
    form_anchor: str = ""


@dataclass
class CriterionRow:
    id: str
    name: str
    category: str
    level: int
    max_level: int
    weight: float
    applicable: bool
    missing_evidence: bool
    explanation: str
    rationale: str
    reference: str
    facts: list[dict[str, Any]]
    to_resolve: str | None
    override: Override | None = None
    comments: list[Comment] = field(default_factory=list)

    @property
    def shown_level(self) -> int:
        applied = self.override is not None and self.override.status == "applied"
        return self.override.level if applied and self.override else self.level

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.shown_level, str(self.shown_level))

    @property
    def levels(self) -> range:
        return range(self.max_level + 1)


@dataclass
class CategoryBlock:
    id: str
    title: str
    weight: float
    score: float
    criteria: list[CriterionRow]


@dataclass
class AssessmentView:
    tier: str
    tier_before_gates: str
    overall_score: float
    coverage: float
    insufficient_evidence: bool
    gates: list[dict[str, Any]]
    categories: list[CategoryBlock]
    gaps: list[Gap]
    rubric_reference: str
    profile_svg: SafeString

    @property
    def coverage_percent(self) -> int:
        return round(self.coverage * 100)

    @property
    def criteria(self) -> list[CriterionRow]:
        return [row for block in self.categories for row in block.criteria]

    @property
    def criteria_missing(self) -> int:
        return sum(1 for row in self.criteria if row.missing_evidence)


def _gap_for(criterion: Mapping[str, Any], missing: str) -> Gap:
    if missing.startswith("diagnostics[") and missing.endswith("]"):
        metric = missing[len("diagnostics[") : -1]
        entry = CATALOGUE.get(metric)
        unit = f" ({entry.unit.replace('_', ' ')})" if entry else ""
        return Gap(
            criterion=criterion["id"],
            criterion_name=humanize(criterion.get("name", "")),
            level=criterion["level"],
            kind="diagnostic",
            target=metric,
            label=f"Diagnostic {metric}{unit}",
            to_resolve=criterion.get("to_resolve") or f"Supply diagnostic {metric}.",
        )
    return Gap(
        criterion=criterion["id"],
        criterion_name=humanize(criterion.get("name", "")),
        level=criterion["level"],
        kind="fact",
        target=missing,
        label=fact_label(missing),
        to_resolve=criterion.get("to_resolve") or f"Supply {missing}.",
        form_anchor=f"field-{missing.replace('.', '__')}",
    )


def assessment_view(
    result: Mapping[str, Any],
    *,
    overrides: Mapping[str, Override] | None = None,
    comments: Mapping[str, list[Comment]] | None = None,
    rubric_content: Mapping[str, Any] | None = None,
) -> AssessmentView:
    """The engine's result (stored or previewed) shaped for the page."""
    overrides = overrides or {}
    comments = comments or {}
    blocks = {
        category["id"]: CategoryBlock(
            id=category["id"],
            title=category.get("title", category["id"]),
            weight=float(category.get("weight", 0)),
            score=float(category.get("score", 0)),
            criteria=[],
        )
        for category in result.get("categories", [])
    }
    gaps: list[Gap] = []
    for criterion in result.get("criteria", []):
        row = CriterionRow(
            id=criterion["id"],
            name=humanize(criterion.get("name", "")),
            category=criterion.get("category", ""),
            level=int(criterion.get("level", 0)),
            max_level=int(criterion.get("max_level", 3)),
            weight=float(criterion.get("weight", 0)),
            applicable=bool(criterion.get("applicable", True)),
            missing_evidence=bool(criterion.get("missing_evidence")),
            explanation=criterion.get("explanation", ""),
            rationale=criterion.get("rationale", ""),
            reference=criterion.get("reference", ""),
            facts=[
                {**fact, "value_text": format_value(fact.get("value"))}
                for fact in criterion.get("facts") or []
            ],
            to_resolve=criterion.get("to_resolve"),
            override=overrides.get(criterion["id"]),
            comments=list(comments.get(criterion["id"], [])),
        )
        block = blocks.setdefault(
            row.category, CategoryBlock(row.category, humanize(row.category), 0, 0, [])
        )
        block.criteria.append(row)
        if row.missing_evidence:
            gaps.extend(_gap_for(criterion, missing) for missing in criterion["missing_facts"])
    rubric = result.get("rubric") or {}
    profile = charts.risk_profile_svg(
        result.get("categories", []),
        overall_score=float(result.get("overall_score", 0)),
        tier=str(result.get("tier", "low")),
        tiers=charts.tier_thresholds(rubric_content),
    )
    return AssessmentView(
        tier=str(result.get("tier", "")),
        tier_before_gates=str(result.get("tier_before_gates", result.get("tier", ""))),
        overall_score=float(result.get("overall_score", 0)),
        coverage=float(result.get("coverage", 0)),
        insufficient_evidence=bool(result.get("insufficient_evidence")),
        gates=list(result.get("gates") or []),
        categories=list(blocks.values()),
        gaps=gaps,
        rubric_reference=f"{rubric.get('urn', '')}@{rubric.get('version', '')}",
        profile_svg=_svg(profile),
    )


def _svg(svg: str) -> SafeString:
    # The chart modules escape every label they draw; the SVG is built from stored numbers.
    return mark_safe(svg)  # noqa: S308


# --- Facts with provenance --------------------------------------------------------------------


@dataclass
class FactRow:
    path: str
    label: str
    value: Any
    value_text: str
    source: str
    also: list[str]
    missing: bool


@dataclass
class FactSection:
    id: str
    title: str
    rows: list[FactRow]

    @property
    def supplied(self) -> int:
        return sum(1 for row in self.rows if not row.missing)


def fact_lookup(document: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Whether the facts document has `path` (dotted), and its value."""
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def facts_sections(
    document: Mapping[str, Any] | None, provenance: Mapping[str, Any] | None
) -> list[FactSection]:
    document = document or {}
    provenance = provenance or {}
    sections: dict[str, FactSection] = {}
    for path in schema_leaf_paths():
        section_id = path.split(".", 1)[0]
        section = sections.setdefault(
            section_id, FactSection(section_id, SECTION_TITLES.get(section_id, section_id), [])
        )
        present, value = fact_lookup(document, path)
        location = provenance.get(path) or {}
        section.rows.append(
            FactRow(
                path=path,
                label=humanize(path.split(".", 1)[1]),
                value=value,
                value_text=format_value(value) if present else "",
                source=describe_location(location),
                also=[describe_location(other) for other in location.get("also", [])],
                missing=not present,
            )
        )
    return list(sections.values())


# --- Diagnostics against the rubric's bands -------------------------------------------------


@dataclass
class DiagnosticRow:
    metric: str
    value: Any
    value_text: str
    interval_text: str
    n: Any
    suite: str
    source: str
    method: str
    unit: str
    riskier: str
    scored: bool
    criterion: str
    band_level: int | None


def _band_for(value: float, bands: Sequence[charts.Band]) -> charts.Band | None:
    for band in bands:
        if (band.low is None or value >= band.low) and (band.high is None or value < band.high):
            return band
    return None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def diagnostics_view(
    document: Mapping[str, Any] | None, rubric_content: Mapping[str, Any] | None
) -> tuple[list[DiagnosticRow], SafeString]:
    """The diagnostics table rows (scored metrics first) and the chart against the bands."""
    bands_by_metric = charts.diagnostic_bands(rubric_content)
    rows: list[DiagnosticRow] = []
    chart_rows: list[dict[str, Any]] = []
    for diagnostic in (document or {}).get("diagnostics") or []:
        if not isinstance(diagnostic, Mapping):
            continue
        metric = str(diagnostic.get("metric") or "")
        value = diagnostic.get("value")
        known = bands_by_metric.get(metric)
        bands = known.bands if known else ()
        band = _band_for(float(value), bands) if _number(value) and bands else None
        entry = CATALOGUE.get(metric)
        ci_low, ci_high = diagnostic.get("ci_low"), diagnostic.get("ci_high")
        rows.append(
            DiagnosticRow(
                metric=metric,
                value=value,
                value_text=charts.format_measure(value) if _number(value) else str(value),
                interval_text=(
                    f"{charts.format_measure(ci_low)}–{charts.format_measure(ci_high)}"
                    if _number(ci_low) and _number(ci_high)
                    else "—"
                ),
                n=diagnostic.get("n"),
                suite=str(diagnostic.get("suite") or ""),
                source=str(diagnostic.get("source") or ""),
                method=str(diagnostic.get("method") or ""),
                unit=entry.unit.replace("_", " ") if entry else "",
                riskier=entry.riskier if entry else "",
                scored=entry is not None,
                criterion=known.criterion if known else "",
                band_level=band.level if band else None,
            )
        )
        if entry is not None:
            chart_rows.append(
                {
                    "metric": metric,
                    "value": value,
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "bands": bands,
                }
            )
    rows.sort(key=lambda row: (not row.scored, row.metric, row.source))
    chart_rows.sort(key=lambda row: row["metric"])
    chart = charts.diagnostics_chart_svg(chart_rows) if chart_rows else ""
    return rows, _svg(chart)


# --- Narrative ------------------------------------------------------------------------------


def narrative_view(narrative: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The model card's prose: markdown-it (raw HTML off) then nh3, as the report prints it."""
    return [{**section, "html": _svg(section["html"])} for section in narrative_sections(narrative)]


# --- What one upload gave -------------------------------------------------------------------


def extracted_summary(extracted: Mapping[str, Any] | None) -> dict[str, Any]:
    """What an importer took from one file: facts (with where), diagnostics, prose sections."""
    extracted = extracted or {}
    provenance = extracted.get("provenance") or {}
    fields = extracted.get("fields") or {}
    leaves = set(schema_leaf_paths())
    return {
        "facts": [
            {
                "path": path,
                "label": fact_label(path),
                "value_text": format_value(value),
                "where": describe_location(provenance.get(path)),
            }
            for path, value in fields.items()
            if path in leaves
        ],
        "other_fields": sum(1 for path in fields if path not in leaves),
        "diagnostics": [
            {
                "metric": diagnostic.get("metric"),
                "value_text": charts.format_measure(diagnostic.get("value"))
                if _number(diagnostic.get("value"))
                else str(diagnostic.get("value")),
                "scored": diagnostic.get("metric") in CATALOGUE,
                "where": describe_location(diagnostic.get("location")),
            }
            for diagnostic in extracted.get("diagnostics") or []
        ],
        "narrative": [section.get("title", "") for section in extracted.get("narrative") or []],
    }


def schema_enum_labels() -> dict[str, list[str]]:
    """Every enumerated fact's allowed values, for help text."""
    labels: dict[str, list[str]] = {}
    properties = filing_schema()["properties"]
    for path in schema_leaf_paths():
        section, name = path.split(".", 1)
        spec = properties[section]["properties"][name]
        values = spec.get("enum") or (spec.get("items") or {}).get("enum")
        if values:
            labels[path] = list(values)
    return labels


def is_overdue(submission: Any, now: datetime) -> bool:
    """The regulator's review of `submission` is past its due date."""
    return (
        submission.status in ("submitted", "under_review")
        and submission.review_due_at is not None
        and submission.review_due_at < now
    )
