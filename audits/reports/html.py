"""Build the report's context from stored rows and render the report template to HTML.

Everything the report shows comes from stored rows (or, for a preparation copy, from the
filing given on the command line); nothing depends on the clock, on dictionary order that
differs between runs, or on row ids beyond tie-breaking, so the same rows give the same
HTML and therefore the same PDF.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from audits.canonical import canonical_json
from audits.intake.catalogue import CATALOGUE
from audits.intake.types import describe_location
from audits.reports import charts
from audits.reports.markdown import markdown_to_safe_html, narrative_sections
from audits.reports.software import software_version
from audits.reports.variants import (
    PUBLIC,
    confidential_evidence_files,
    is_confidential,
    public_inputs,
)

TEMPLATE_NAME = "reports/transparency_audit.html"
ATTACHMENT_NAME = "assessment.json"
DIAGNOSTIC_ROWS_PER_CHART = 18

# Section titles in their standard order; tests and readers rely on this order.
SECTION_TITLES = (
    "Executive summary",
    "Risk profile",
    "Scope and limitations",
    "Criterion-by-criterion assessment",
    "Diagnostics against the rubric's bands",
    "Evidence inventory",
    "Review history and decision",
    "Methodology",
)

# The anchor of each section, in SECTION_TITLES order, for the table of contents.
SECTION_ANCHORS = (
    "summary", "risk-profile", "scope", "criteria", "diagnostics", "evidence", "history",
    "methodology",
)  # fmt: skip
NARRATIVE_TITLE = "Annex A — The lab's narrative, as filed"

KIND_LABELS = {
    "provisional": "Provisional report",
    "final": "Final report",
    "preparation": "Preparation copy",
}
VARIANT_LABELS = {"confidential": "Confidential", "public": "Public"}
PROVISIONAL_STATUS = "Provisional — under review"
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass
class ReportInputs:
    """Everything one rendering reads; built from rows (`report_inputs_for`) or by hand."""

    reference: str
    lab: str
    model_name: str
    model_version: str
    revision: int
    report_version: int | None
    kind: str  # provisional | final | preparation
    issued_at: datetime
    assessed_at: datetime
    result: dict[str, Any]
    facts_document: dict[str, Any]
    facts_sha256: str
    rubric_content: dict[str, Any] | None = None
    narrative: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    status: str = ""
    variant: str = "confidential"
    # The regulator organization that decided (final reports) and whose key signs them.
    authority: str = ""
    verify_url: str = ""
    software: str = ""
    rubric_status: str = ""  # in force | superseded, when the version was requested
    correction: dict[str, Any] | None = None  # {"reason_html", "corrects_version"}
    signer: dict[str, str] | None = None  # {"subject", "fingerprint"} of final reports
    withheld: dict[str, int] = field(default_factory=dict)  # public variant: what it omits


def format_date(moment: datetime | None, *, with_time: bool = False) -> str:
    """A date as the report prints it, in UTC and independent of the process locale."""
    if moment is None:
        return "—"
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    return f"{text}, {moment:%H:%M} UTC" if with_time else text


def format_timestamp(moment: datetime | None) -> str:
    """A compact UTC timestamp for table cells: `2026-03-02 09:15`."""
    if moment is None:
        return "—"
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{moment:%Y-%m-%d %H:%M}"


def format_size(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def humanize(name: str) -> str:
    """`task_generality` -> `Task generality`."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_fact_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_fact_value(member) for member in value)
    return str(value)


def assessment_attachment_bytes(result: Mapping[str, Any]) -> bytes:
    """The embedded `assessment.json`: the stored assessment, canonically serialized."""
    return canonical_json(result)


def _attachment_uri(result: Mapping[str, Any]) -> str:
    encoded = base64.b64encode(assessment_attachment_bytes(result)).decode("ascii")
    return f"data:application/json;base64,{encoded}"


def _compact_source(source: str, path: str) -> str:
    """`filing.yaml, line 12, field model.scope` for fact `model.scope` -> `filing.yaml,
    line 12`: the field repeats the path printed beside it."""
    for suffix in (f", field {path}", f", field {path.split('.', 1)[-1]}"):
        if source.endswith(suffix):
            return source[: -len(suffix)]
    return source


def _category_titles(result: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(category.get("id")): str(category.get("title") or category.get("id"))
        for category in result.get("categories") or []
    }


def _contribution(criterion: Mapping[str, Any]) -> float:
    maximum = criterion.get("max_level") or 0
    if not maximum or not criterion.get("applicable", True):
        return 0.0
    return float(criterion.get("weight") or 0) * float(criterion.get("level") or 0) / maximum


def top_criteria(result: Mapping[str, Any], count: int = 3) -> list[Mapping[str, Any]]:
    """The criteria that weigh most (weight × level / max level), rubric order on ties."""
    criteria = list(result.get("criteria") or [])
    ranked = sorted(enumerate(criteria), key=lambda pair: (-_contribution(pair[1]), pair[0]))
    return [criterion for _, criterion in ranked if _contribution(criterion) > 0][:count]


def _criteria_rows(inputs: ReportInputs) -> list[dict[str, Any]]:
    titles = _category_titles(inputs.result)
    overrides = {str(o["criterion"]): o for o in inputs.overrides}
    rows = []
    for criterion in inputs.result.get("criteria") or []:
        criterion_id = str(criterion.get("id"))
        override = overrides.get(criterion_id)
        rows.append(
            {
                "id": criterion_id,
                "name": humanize(str(criterion.get("name") or "")),
                "category": titles.get(str(criterion.get("category")), criterion.get("category")),
                "level": criterion.get("level"),
                "max_level": criterion.get("max_level"),
                "weight": criterion.get("weight"),
                "applicable": criterion.get("applicable", True),
                "missing_evidence": criterion.get("missing_evidence", False),
                "missing_facts": list(criterion.get("missing_facts") or []),
                "explanation": criterion.get("explanation") or "",
                "to_resolve": criterion.get("to_resolve") or "",
                "reference": criterion.get("reference") or "",
                "facts": [
                    {
                        "path": str(fact.get("path")),
                        "value": format_fact_value(fact.get("value")),
                        "source": _compact_source(
                            describe_location(fact.get("source")), str(fact.get("path"))
                        ),
                    }
                    for fact in criterion.get("facts") or []
                ],
                "override": None
                if override is None
                else {
                    "level": override["level"],
                    "automated_level": override.get("automated_level"),
                    "author": override.get("author") or "",
                    "date": format_date(override.get("created_at")),
                    "reason_html": _safe(markdown_to_safe_html(str(override.get("reason") or ""))),
                },
            }
        )
    return rows


def _band_for(value: float, bands: Sequence[charts.Band]) -> charts.Band | None:
    for band in bands:
        low_ok = band.low is None or value >= band.low or (band.low == band.high == value)
        high_ok = band.high is None or value < band.high or band.low == band.high
        if low_ok and high_ok:
            return band
    return None


def _diagnostic_rows(inputs: ReportInputs) -> list[dict[str, Any]]:
    bands_by_metric = charts.diagnostic_bands(inputs.rubric_content)
    raw = [d for d in inputs.facts_document.get("diagnostics") or [] if isinstance(d, Mapping)]
    rows = []
    for diagnostic in raw:
        metric = str(diagnostic.get("metric") or "")
        value = diagnostic.get("value")
        known = bands_by_metric.get(metric)
        bands = known.bands if known else ()
        band = _band_for(float(value), bands) if isinstance(value, int | float) and bands else None
        catalogue = CATALOGUE.get(metric)
        rows.append(
            {
                "metric": metric,
                "value": value,
                "value_text": charts.format_measure(value)
                if isinstance(value, int | float)
                else format_fact_value(value),
                "ci_low": diagnostic.get("ci_low"),
                "ci_high": diagnostic.get("ci_high"),
                "interval_text": (
                    f"{charts.format_measure(diagnostic['ci_low'])}–"
                    f"{charts.format_measure(diagnostic['ci_high'])}"
                    if isinstance(diagnostic.get("ci_low"), int | float)
                    and isinstance(diagnostic.get("ci_high"), int | float)
                    else "—"
                ),
                "n": diagnostic.get("n"),
                "suite": str(diagnostic.get("suite") or ""),
                "source": str(diagnostic.get("source") or ""),
                "method": str(diagnostic.get("method") or ""),
                "unit": catalogue.unit.replace("_", " ") if catalogue else "",
                "riskier": catalogue.riskier if catalogue else "",
                "scored": catalogue is not None,
                "criterion": known.criterion if known else "",
                "bands": bands,
                "band_text": band.label if band else "",
                "band_level": band.level if band else None,
            }
        )
    # Scored (catalogue) metrics first, then the others; by id, then source, for stability.
    rows.sort(key=lambda r: (not r["scored"], r["metric"], r["source"], str(r["value"])))
    return rows


def _methodology(inputs: ReportInputs) -> dict[str, Any]:
    content = inputs.rubric_content or {}
    references = [
        {
            "id": str(ref.get("id")),
            "citation": " ".join(str(ref.get("citation") or "").split()),
            "url": str(ref.get("url") or ""),
        }
        for ref in content.get("references") or []
        if isinstance(ref, Mapping)
    ]
    criteria = [
        {
            "id": str(c.get("id")),
            "name": humanize(str(c.get("name") or "")),
            "category": str(c.get("category") or ""),
            "weight": c.get("weight"),
            "max_level": c.get("max_level", 3),
            "missing_level": c.get("missing_level"),
            "applies": " ".join(str(c.get("applies_text") or "always").split()),
            "reference": str(c.get("reference") or ""),
            "rationale": " ".join(str(c.get("rationale") or "").split()),
            "cites": ", ".join(str(cite) for cite in c.get("cites") or []),
        }
        for c in content.get("criteria") or []
        if isinstance(c, Mapping)
    ]
    if not criteria:
        # Without the rubric's content the assessment still names its criteria.
        criteria = [
            {
                "id": str(c.get("id")),
                "name": humanize(str(c.get("name") or "")),
                "category": str(c.get("category") or ""),
                "weight": c.get("weight"),
                "max_level": c.get("max_level"),
                "missing_level": None,
                "applies": "",
                "reference": str(c.get("reference") or ""),
                "rationale": " ".join(str(c.get("rationale") or "").split()),
                "cites": "",
            }
            for c in inputs.result.get("criteria") or []
        ]
    gates = [
        {
            "id": str(g.get("id")),
            "name": humanize(str(g.get("name") or "")),
            "min_tier": str(g.get("min_tier") or ""),
            "rationale": " ".join(str(g.get("rationale") or "").split()),
        }
        for g in content.get("gates") or []
        if isinstance(g, Mapping)
    ]
    coverage = content.get("coverage") or {}
    return {
        "title": str(content.get("title") or "Mesa-optimization risk"),
        "description": " ".join(str(content.get("description") or "").split()),
        "categories": inputs.result.get("categories") or content.get("categories") or [],
        "criteria": criteria,
        "gates": gates,
        "references": references,
        "tiers": charts.tier_thresholds(content),
        "insufficient_below": coverage.get("insufficient_below", 0.6),
    }


def svg_image(svg: str) -> SafeString:
    """An <img> carrying `svg` as a data: URI.

    WeasyPrint draws an SVG image without running the document's CSS cascade over every
    rect and text of the chart, which an inline <svg> would cost on each rendering.
    """
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return _safe(f'<img class="chart-image" alt="" src="data:image/svg+xml;base64,{encoded}">')


def _safe(html: str) -> SafeString:
    # Only ever called on output of markdown_to_safe_html / our own SVG builders.
    return mark_safe(html)  # noqa: S308


def report_context(inputs: ReportInputs) -> dict[str, Any]:
    """The template context of one report."""
    result = inputs.result
    rubric = result.get("rubric") or {}
    tiers = charts.tier_thresholds(inputs.rubric_content)
    gate_rationales = {
        str(g.get("id")): " ".join(str(g.get("rationale") or "").split())
        for g in (inputs.rubric_content or {}).get("gates") or []
        if isinstance(g, Mapping)
    }
    categories = _category_titles(result)
    top = [
        {
            "id": c.get("id"),
            "name": humanize(str(c.get("name") or "")),
            "category": categories.get(str(c.get("category")), c.get("category")),
            "level": c.get("level"),
            "max_level": c.get("max_level"),
            "weight": c.get("weight"),
            "contribution": f"{_contribution(c):.2f}",
            "explanation": c.get("explanation") or "",
        }
        for c in top_criteria(result)
    ]
    criteria = _criteria_rows(inputs)
    diagnostics = _diagnostic_rows(inputs)
    charted = [row for row in diagnostics if isinstance(row["value"], int | float)]
    if any(row["bands"] for row in charted):
        # The chart sets values against the rubric's bands; metrics without bands are
        # shown, value and interval, in the table only.
        charted = [row for row in charted if row["bands"]]
    diagnostic_charts = [
        svg_image(charts.diagnostics_chart_svg(charted[start : start + DIAGNOSTIC_ROWS_PER_CHART]))
        for start in range(0, len(charted), DIAGNOSTIC_ROWS_PER_CHART)
    ]
    gates = [
        {
            "id": g.get("id"),
            "name": humanize(str(g.get("name") or "")),
            "min_tier": g.get("min_tier"),
            "rationale": gate_rationales.get(str(g.get("id")), ""),
        }
        for g in result.get("gates") or []
    ]
    narrative = [
        {**section, "html": _safe(section["html"])}
        for section in narrative_sections(inputs.narrative)
    ]
    kind_label = KIND_LABELS.get(inputs.kind, inputs.kind.capitalize())
    is_public = inputs.variant == "public"
    verified_facts = sum(
        1
        for d in inputs.facts_document.get("diagnostics") or []
        if isinstance(d, Mapping) and d.get("verified") is True
    )
    return {
        "inputs": inputs,
        "kind": inputs.kind,
        "kind_label": kind_label,
        "variant": inputs.variant,
        "variant_label": VARIANT_LABELS.get(inputs.variant, inputs.variant.capitalize()),
        "is_public": is_public,
        "running_kind": f"{kind_label} · public" if is_public else kind_label,
        "decision_status": decision_status(inputs),
        "toc": table_of_contents(has_narrative=bool(narrative)),
        "verified_facts": verified_facts,
        "is_preparation": inputs.kind == "preparation",
        "reference": inputs.reference,
        "title": f"Transparency audit report {inputs.reference}",
        "issued_date": format_date(inputs.issued_at),
        "issued_datetime": format_date(inputs.issued_at, with_time=True),
        "assessed_datetime": format_date(inputs.assessed_at, with_time=True),
        "metadata_date": inputs.assessed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rubric": rubric,
        "engine_version": result.get("engine_version", ""),
        "tier": str(result.get("tier") or ""),
        "tier_before_gates": str(result.get("tier_before_gates") or ""),
        "overall_score": f"{float(result.get('overall_score') or 0):.2f}",
        "coverage_percent": f"{float(result.get('coverage') or 0) * 100:.1f}",
        "insufficient_evidence": bool(result.get("insufficient_evidence")),
        "gates": gates,
        "top_criteria": top,
        "criteria": criteria,
        "criteria_count": len(criteria),
        "applicable_count": sum(1 for c in criteria if c["applicable"]),
        "missing_count": sum(1 for c in criteria if c["missing_evidence"]),
        "override_count": sum(1 for c in criteria if c["override"]),
        "risk_profile_svg": svg_image(
            charts.risk_profile_svg(
                result.get("categories") or [],
                overall_score=float(result.get("overall_score") or 0),
                tier=str(result.get("tier") or ""),
                tiers=tiers,
            )
        ),
        "diagnostics": diagnostics,
        "scored_diagnostics": [row for row in diagnostics if row["scored"]],
        "other_diagnostics": [row for row in diagnostics if not row["scored"]],
        "diagnostic_charts": diagnostic_charts,
        "has_bands": any(row["bands"] for row in diagnostics),
        "uploads": inputs.uploads,
        "timeline": inputs.timeline,
        "decision": inputs.decision,
        "methodology": _methodology(inputs),
        "narrative": narrative,
        "narrative_title": NARRATIVE_TITLE,
        "section_titles": SECTION_TITLES,
        "attachment_uri": _attachment_uri(result),
        "attachment_name": ATTACHMENT_NAME,
    }


def decision_status(inputs: ReportInputs) -> str:
    """What the cover says about the decision: `Accepted`, `Rejected`, or provisional."""
    if inputs.kind == "preparation":
        return "Not filed — no decision"
    if inputs.kind == "final" and inputs.decision:
        return str(inputs.decision["label"])
    return PROVISIONAL_STATUS


def table_of_contents(*, has_narrative: bool) -> list[dict[str, str]]:
    """The sections with their numbers and anchors; page numbers come from the layout."""
    entries = [
        {"number": str(number), "anchor": anchor, "title": title}
        for number, (anchor, title) in enumerate(
            zip(SECTION_ANCHORS, SECTION_TITLES, strict=True), start=1
        )
    ]
    if has_narrative:
        entries.append({"number": "", "anchor": "narrative", "title": NARRATIVE_TITLE})
    return entries


def render_report_html(inputs: ReportInputs) -> str:
    """The report as HTML, ready for `audits.reports.pdf.write_report_pdf`."""
    return render_to_string(TEMPLATE_NAME, report_context(inputs))


def report_inputs_for(report: Any) -> ReportInputs:
    """Read a Report row's inputs: its assessment, facts, overrides, uploads and history.

    The queries are fixed in number whatever the report lists.
    """
    from audits.models import (
        Comment,
        DiagnosticUpload,
        Evidence,
        Facts,
        ModelCard,
        Override,
        Review,
        SubmissionRevision,
    )

    submission = report.submission
    assessment = report.assessment
    facts = Facts.objects.filter(submission=submission, revision=assessment.revision).first()
    overrides = [
        {
            "criterion": o.criterion,
            "automated_level": o.automated_level,
            "level": o.level,
            "reason": o.reason,
            "author": _person(o.author),
            "created_at": o.created_at,
        }
        for o in Override.objects.filter(assessment=assessment)
        .select_related("author")
        .order_by("criterion", "id")
    ]
    confidential_files = confidential_evidence_files(facts.document if facts else {})
    uploads: list[dict[str, Any]] = []
    for model, kind in (
        (ModelCard, "Model card"),
        (DiagnosticUpload, "Diagnostics"),
        (Evidence, "Evidence"),
    ):
        for upload in (
            model.objects.filter(submission=submission, revision__lte=report.revision)
            .select_related("stored_file", "uploaded_by")
            .order_by("revision", "uploaded_at", "id")
        ):
            stored = upload.stored_file
            uploads.append(
                {
                    "file_name": upload.file_name,
                    "kind": kind,
                    "content_type": stored.content_type,
                    "size": format_size(stored.size),
                    "sha256": stored.sha256,
                    "uploaded_by": _person(upload.uploaded_by),
                    "uploaded_at": format_timestamp(upload.uploaded_at),
                    "revision": upload.revision,
                    "description": getattr(upload, "description", "") or "",
                    "confidential": kind == "Evidence"
                    and (is_confidential(upload) or upload.file_name in confidential_files),
                    "_order": (upload.revision, upload.uploaded_at, kind, upload.pk),
                }
            )
    uploads.sort(key=lambda u: u.pop("_order"))

    events: list[tuple[Any, int, int, dict[str, Any]]] = []
    for revision in SubmissionRevision.objects.filter(
        submission=submission, number__lte=report.revision
    ).select_related("submitted_by"):
        events.append(
            (
                revision.submitted_at,
                0,
                revision.pk,
                {
                    "date": format_timestamp(revision.submitted_at),
                    "what": f"Revision {revision.number} submitted",
                    "who": _person(revision.submitted_by),
                    "role": "lab",
                    "text_html": "",
                },
            )
        )
    reviews = list(
        Review.objects.filter(submission=submission, revision__lte=report.revision)
        .select_related("reviewer__membership__organization")
        .order_by("created_at", "id")
    )
    for review in reviews:
        events.append(
            (
                review.created_at,
                1,
                review.pk,
                {
                    "date": format_timestamp(review.created_at),
                    "what": f"{review.get_decision_display()} (revision {review.revision})",
                    "who": _person(review.reviewer),
                    "role": "regulator",
                    "text_html": _safe(markdown_to_safe_html(review.rationale)),
                },
            )
        )
    for comment in (
        Comment.objects.filter(submission=submission, revision__lte=report.revision)
        .select_related("author")
        .order_by("created_at", "id")
    ):
        about = f" on {comment.criterion}" if comment.criterion else ""
        events.append(
            (
                comment.created_at,
                2,
                comment.pk,
                {
                    "date": format_timestamp(comment.created_at),
                    "what": f"Comment{about} (revision {comment.revision})",
                    "who": _person(comment.author),
                    "role": "comment",
                    "text_html": _safe(markdown_to_safe_html(comment.body)),
                },
            )
        )
    events.sort(key=lambda event: (event[0], event[1], event[2]))

    decision = None
    authority = ""
    final_reviews = [
        r for r in reviews if r.decision in (Review.Decision.ACCEPT, Review.Decision.REJECT)
    ]
    if report.kind == "final" and final_reviews:
        review = final_reviews[-1]
        authority = _organization_of(review.reviewer)
        decision = {
            "label": review.get_decision_display(),
            "decision": review.decision,
            "who": _person(review.reviewer),
            "authority": authority,
            "date": format_date(review.created_at, with_time=True),
            "rationale_html": _safe(markdown_to_safe_html(review.rationale)),
            "conditions": [str(c) for c in review.conditions or [] if str(c).strip()],
        }
    correction = None
    if report.correction_reason:
        correction = {
            "corrects_version": report.corrects_version,
            "reason_html": _safe(markdown_to_safe_html(report.correction_reason)),
        }

    inputs = ReportInputs(
        reference=submission.reference,
        lab=submission.organization.name,
        model_name=submission.model.name,
        model_version=submission.model_version,
        revision=report.revision,
        report_version=report.version,
        kind=report.kind,
        issued_at=report.created_at,
        assessed_at=assessment.created_at,
        result=assessment.result,
        facts_document=facts.document if facts else {},
        facts_sha256=assessment.facts_sha256,
        rubric_content=assessment.rubric.content,
        narrative=list(facts.narrative) if facts else [],
        provenance=dict(facts.provenance) if facts else {},
        overrides=overrides,
        uploads=uploads,
        timeline=[event[3] for event in events],
        decision=decision,
        status=submission.status,
        variant=report.variant,
        authority=authority,
        verify_url=verification_url(),
        software=software_version(),
        rubric_status=report.rubric_status,
        correction=correction,
    )
    return public_inputs(inputs) if report.variant == PUBLIC else inputs


def verification_url() -> str:
    """The absolute address of the public verification page, as reports print it."""
    from django.conf import settings

    return f"{settings.PORTAL_BASE_URL}/verify/"


def _organization_of(user: Any) -> str:
    membership = getattr(user, "membership", None)
    return membership.organization.name if membership is not None else ""


def _person(user: Any) -> str:
    if user is None:
        return "system"
    full_name = (user.get_full_name() or "").strip()
    return f"{full_name} ({user.get_username()})" if full_name else str(user.get_username())
