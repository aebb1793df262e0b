"""Reads shared by the portal and the API, always scoped to what the acting user may see.

A lab sees its own organization's rows; a regulator sees every submission that is not a
draft. Anything else is invisible: lookups raise DoesNotExist (a 404), never a 403 that
would confirm another tenant's object exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audits.models import AuditEvent, Submission
from audits.roles import membership_of


def submissions_visible_to(user: Any) -> QuerySet[Submission]:
    membership = membership_of(user)
    queryset = Submission.objects.select_related(
        "organization", "model", "assigned_to", "submitted_by"
    )
    if membership is None:
        return queryset.none()
    if membership.organization.is_regulator:
        return queryset.exclude(status=Submission.Status.DRAFT)
    return queryset.filter(organization_id=membership.organization_id)


def submission_get(*, user: Any, reference: str) -> Submission:
    """The submission with this reference if `user` may see it, else Submission.DoesNotExist."""
    return submissions_visible_to(user).get(reference=reference)


def audit_events_for_submission(*, user: Any, submission: Submission) -> QuerySet[AuditEvent]:
    # Visibility follows the submission: whoever may see it may see its history.
    submission_get(user=user, reference=submission.reference)
    return AuditEvent.objects.filter(
        object_type="submission", object_id=submission.reference
    ).select_related("actor")
