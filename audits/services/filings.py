"""Compositions the API (and any other client) needs as one transaction.

Opening a filing from a document must not leave an empty draft behind when the document
is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from audits.models import Submission
from audits.services.intake import AttachOutcome, filing_document_attach
from audits.services.submissions import submission_create

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Filed:
    submission: Submission
    outcome: AttachOutcome | None


@transaction.atomic
def submission_file(
    *,
    acting_user: User,
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
