"""Reads for rubric publications: their progress, their failures and what they changed.

Regulators only: a publication's outcomes name every lab's filings.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audits.models import RescoreOutcome, RubricPublication
from audits.roles import ensure, is_regulator


def rubric_publications(*, user: Any) -> QuerySet[RubricPublication]:
    ensure(is_regulator(user), "Only regulators follow rubric publications.")
    return RubricPublication.objects.select_related(
        "rubric", "previous_rubric", "published_by"
    ).order_by("-published_at", "-id")


def rubric_publication_get(*, user: Any, pk: int) -> RubricPublication:
    return rubric_publications(user=user).get(pk=pk)


def rubric_publication_outcomes(
    *, user: Any, publication: RubricPublication, status: str, tier_changed_only: bool = False
) -> QuerySet[RescoreOutcome]:
    """A publication's outcomes of one status, by reference, with what a diff row shows.

    The assessments' `result` (the full criterion-by-criterion JSON) is never read: a row
    needs only the diff, which names just the criteria that changed.
    """
    ensure(is_regulator(user), "Only regulators follow rubric publications.")
    outcomes = publication.outcomes.filter(status=status)
    if tier_changed_only:
        outcomes = outcomes.filter(tier_changed=True)
    return (
        outcomes.select_related("submission__organization", "submission__model", "assessment")
        .only(
            "status",
            "error",
            "tier_changed",
            "recorded_at",
            "submission__reference",
            "submission__model_version",
            "submission__organization__name",
            "submission__model__name",
            "assessment__diff",
            "assessment__tier",
            "assessment__overall_score",
        )
        .order_by("submission__reference")
    )
