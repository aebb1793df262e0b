"""The regulator's portfolio (charts over every filing) and the review queue's exports."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audits import selectors
from audits.models import Submission
from audits.roles import ensure, may_export_queue
from audits.web import charts
from audits.web.common import AuthenticatedRequest, portal_view
from audits.web.presenters import humanize, is_overdue
from audits.web.regulator import queue_filter_form
from audits.web.spreadsheets import csv_bytes, xlsx_bytes

INSUFFICIENT_COVERAGE = 0.6
EXPORT_HEADER = (
    "Reference",
    "Lab",
    "Model",
    "Model version",
    "Status",
    "Revision",
    "Tier",
    "Overall score",
    "Coverage",
    "Insufficient evidence",
    "Assigned to",
    "Submitted at (UTC)",
    "Days waiting",
    "Review due (UTC)",
    "Overdue",
)


@portal_view
@require_GET
def portfolio(request: AuthenticatedRequest) -> HttpResponse:
    summary = selectors.portfolio(user=request.user)
    level3 = [(f"{cid} {humanize(name)}", count) for cid, name, count in summary.level3_counts]
    return render(
        request,
        "audits/regulator/portfolio.html",
        {
            "summary": summary,
            "tiers": [(tier, summary.tiers.get(tier, 0)) for tier in selectors.TIER_ORDER],
            "insufficient_tiers": [
                (tier, summary.insufficient_tiers[tier])
                for tier in selectors.TIER_ORDER
                if summary.insufficient_tiers.get(tier)
            ],
            "legend": charts.tier_legend(),
            "tiers_by_lab_svg": charts.stacked_bars_svg(
                summary.tiers_by_lab, label="Current tier of each lab's filings"
            ),
            "tiers_over_time_svg": charts.stacked_columns_svg(
                summary.tiers_by_month, label="Tiers of filings by month of submission"
            ),
            "level3_svg": charts.ranked_bars_svg(
                level3,
                total=sum(summary.tiers.values()) + summary.insufficient,
                label="Criteria most often at level 3",
            ),
            "level3": level3,
            "coverage_svg": charts.coverage_svg(
                summary.coverage_by_lab,
                threshold=INSUFFICIENT_COVERAGE,
                label="Average evidence coverage by lab",
            ),
            "statuses": [
                (label, summary.statuses.get(value, 0))
                for value, label in Submission.Status.choices
                if value != Submission.Status.DRAFT
            ],
            "section": "portfolio",
        },
    )


def _export_rows(request: AuthenticatedRequest) -> list[list[Any]]:
    ensure(may_export_queue(request.user), "Only regulators export the review queue.")
    filters = queue_filter_form(request).filters()
    now = timezone.now()
    rows = []
    for submission in selectors.review_queue(user=request.user, filters=filters):
        score = submission.current_score
        coverage = submission.current_coverage
        rows.append(
            [
                submission.reference,
                submission.organization.name,
                submission.model.name,
                submission.model_version,
                submission.get_status_display(),
                submission.revision,
                submission.current_tier,
                round(score, 2) if score is not None else None,
                round(coverage, 3) if coverage is not None else None,
                submission.current_insufficient if submission.current_tier else None,
                submission.assigned_to.get_username() if submission.assigned_to else "",
                submission.submitted_at,
                (now - submission.submitted_at).days if submission.submitted_at else None,
                submission.review_due_at,
                is_overdue(submission, now),
            ]
        )
    return rows


def _filename(extension: str) -> str:
    return f"review-queue-{timezone.now():%Y%m%d-%H%M}.{extension}"


@portal_view
@require_GET
def queue_export_csv(request: AuthenticatedRequest) -> HttpResponse:
    body = csv_bytes(EXPORT_HEADER, _export_rows(request))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@portal_view
@require_GET
def queue_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    body = xlsx_bytes("Review queue", EXPORT_HEADER, _export_rows(request))
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
