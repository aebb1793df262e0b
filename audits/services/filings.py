"""Compositions the API (and any other client) needs as one transaction.

Opening a filing from a document must not leave an empty draft behind when the document
is refused; assigning by username must say which name is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audits.errors import ServiceError
from audits.models import Submission
from audits.services.intake import AttachOutcome, filing_document_attach
from audits.services.submissions import submission_assign, submission_create


@dataclass(frozen=True)
class Filed:
    submission: Submission
    outcome: AttachOutcome | None


@transaction.atomic
def submission_file(
    *,
    acting_user: Any,
    model_name: str,
    model_version: str,
    filing: dict[str, Any] | None = None,
) -> Filed:
    """A new draft, with `filing` attached as its native filing document if given.

    An invalid document raises the intake's errors and rolls the draft back.
    """
    submission = submission_create(
        acting_user=acting_user, model_name=model_name, model_version=model_version
    )
    if filing is None:
        return Filed(submission=submission, outcome=None)
    outcome = filing_document_attach(
        submission=submission, acting_user=acting_user, document=filing
    )
    return Filed(submission=submission, outcome=outcome)


@transaction.atomic
def submission_assign_by_username(
    *, submission: Submission, acting_user: Any, username: str
) -> Submission:
    reviewer = get_user_model().objects.filter(username=username, is_active=True).first()
    if reviewer is None:
        raise ServiceError(f"No active user is named {username!r}.", details={"field": "reviewer"})
    return submission_assign(submission=submission, acting_user=acting_user, reviewer=reviewer)
