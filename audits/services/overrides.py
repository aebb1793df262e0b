"""Overrides outlive the assessment they were made on: carried to the next one, never lost."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audits.canonical import canonical_json
from audits.models import Assessment, Override
from audits.services.audit_log import submission_event_record


def _facts_read(criterion: dict[str, Any]) -> list[tuple[str, str]]:
    # What a criterion's level rests on: the facts it read and their values (not where
    # they came from: re-uploading the same facts in another file changes nothing).
    return sorted(
        (fact["path"], canonical_json(fact["value"]).decode()) for fact in criterion["facts"]
    )


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    said = []
    if before["level"] != after["level"]:
        said.append(f"automated level {before['level']} → {after['level']}")
    old, new = dict(_facts_read(before)), dict(_facts_read(after))
    for path in sorted(old.keys() | new.keys()):
        if old.get(path) != new.get(path):
            said.append(f"{path} {old.get(path, 'not supplied')} → {new.get(path, 'not supplied')}")
    return "; ".join(said)


@transaction.atomic
def overrides_carry_forward(*, source: Assessment, target: Assessment) -> list[Override]:
    """Carry `source`'s overrides to `target`, a later assessment of the same filing.

    An applied override stays applied when the criterion's automated level and the facts it
    read are the same in both; otherwise it waits for a reviewer to confirm or drop it, with
    a note saying what changed. One that waited still waits; dropped ones stay behind. A
    criterion the new rubric no longer has is carried as dropped, so its history shows why.
    Each carried override is recorded in the audit log.
    """
    criteria = {criterion["id"]: criterion for criterion in target.result["criteria"]}
    previous = {criterion["id"]: criterion for criterion in source.result["criteria"]}
    carried = []
    standing = source.overrides.exclude(status=Override.Status.DROPPED).order_by("criterion")
    for override in standing:
        after = criteria.get(override.criterion)
        status, note = override.status, override.status_note
        if after is None:
            status = Override.Status.DROPPED
            note = f"{target.rubric} has no criterion {override.criterion}."
        elif status == Override.Status.APPLIED:
            changes = _changes(previous[override.criterion], after)
            if changes:
                status = Override.Status.PENDING
                note = (
                    f"The override of revision {override.origin_revision} no longer applies as "
                    f"made: facts changed ({changes}). Confirm it or drop it."
                )
        carried.append(
            Override.objects.create(
                assessment=target,
                criterion=override.criterion,
                automated_level=after["level"] if after else override.automated_level,
                level=override.level,
                reason=override.reason,
                author=override.author,
                status=status,
                origin_revision=override.origin_revision,
                carried_from=override,
                status_note=note,
            )
        )
    if carried:
        submission_event_record(
            submission=target.submission,
            acting_user=None,
            action="assessment.overrides_carry",
            payload={
                "from_assessment": source.pk,
                "to_assessment": target.pk,
                "revision": target.revision,
                "overrides": [
                    {"criterion": row.criterion, "status": row.status, "note": row.status_note}
                    for row in carried
                ],
            },
        )
    return carried
