"""Row locks that serialize changes to one filing."""

from __future__ import annotations

from audits.models import Submission


def submission_lock(submission: Submission) -> Submission:
    """`submission` re-read under a row lock, for a change that depends on its state.

    Two concurrent changes of one filing (a submit and an upload, two decisions) then run
    one after the other, each seeing what the other did. Call it inside the transaction.
    """
    # of=("self",): only the submission's row is locked (PostgreSQL refuses to lock the
    # nullable side of the outer join that reads the current assessment).
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("organization", "model", "current_assessment")
        .get(pk=submission.pk)
    )
