"""Rubric versions: loaded from `audits/rubrics/`, stored once, never changed, published."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from audits import rubric as engine
from audits.errors import ServiceError
from audits.models import Rubric, RubricPublication
from audits.roles import ensure, may_publish_rubric
from audits.services.audit_log import audit_event_record
from audits.services.outbox import outbox_enqueue


@dataclass(frozen=True)
class RubricLoad:
    rubric: Rubric
    created: bool


@transaction.atomic
def rubrics_load(
    *, directory: Path | None = None, acting_user: Any | None = None
) -> list[RubricLoad]:
    """Store every rubric version found on disk that is not stored yet.

    A version already stored with different content is refused: a published version never
    changes, a change is a new version. The first version of a urn with none in force is
    put in force; a later one is in force once it is published.
    """
    found = engine.available_rubrics(directory) if directory else engine.available_rubrics()
    loads = []
    for candidate in found:
        stored = Rubric.objects.filter(urn=candidate.urn, version=candidate.version).first()
        if stored is not None:
            if stored.sha256 != candidate.sha256:
                raise ServiceError(
                    f"{candidate.reference} is already stored with different content "
                    f"(stored sha256 {stored.sha256[:12]}…, file {candidate.source} has "
                    f"{candidate.sha256[:12]}…); publish the change as a new version."
                )
            loads.append(RubricLoad(stored, created=False))
            continue
        row = Rubric.objects.create(
            urn=candidate.urn,
            version=candidate.version,
            sha256=candidate.sha256,
            content=candidate.content,
        )
        audit_event_record(
            actor=acting_user,
            action="rubric.load",
            object_type="rubric",
            object_id=candidate.reference,
            payload={"sha256": candidate.sha256},
        )
        loads.append(RubricLoad(row, created=True))
    for urn in {load.rubric.urn for load in loads}:
        if not Rubric.objects.filter(urn=urn, in_force=True).exists():
            first = min(
                (load.rubric for load in loads if load.rubric.urn == urn),
                key=lambda row: row.engine_form().version_key,
            )
            _put_in_force(first, acting_user)
    return loads


def _put_in_force(
    row: Rubric, acting_user: Any | None, publication: RubricPublication | None = None
) -> None:
    Rubric.objects.filter(urn=row.urn, in_force=True).exclude(pk=row.pk).update(in_force=False)
    row.in_force = True
    row.save(update_fields=["in_force"])
    audit_event_record(
        actor=acting_user,
        action="rubric.publish",
        object_type="rubric",
        object_id=f"{row.urn}@{row.version}",
        payload={"sha256": row.sha256, "publication": publication.pk if publication else None},
    )


@dataclass(frozen=True)
class RubricPublish:
    """What publishing came to: the publication (None for a version in force since it was
    loaded), and whether this call started it."""

    rubric: Rubric
    publication: RubricPublication | None
    started: bool


RESCORE_PLAN_TASK = "audits.rubric_rescore_plan"


@transaction.atomic
def rubric_publish(*, rubric: Rubric, acting_user: Any | None) -> RubricPublish:
    """Put a stored rubric version in force and re-score every filed submission under it.

    For a regulator admin, or an operator's command (`acting_user` None). The publication
    is recorded and its re-scoring enqueued, in chunks, as background work once this
    transaction commits; its progress is the publication's counts. Publishing the version
    in force starts nothing; publishing while another version is still being re-scored is
    refused.
    """
    if acting_user is not None:
        ensure(may_publish_rubric(acting_user), "Only a regulator admin may publish a rubric.")
    # Every version of the urn locked: two publishers of one rubric take turns.
    versions = {row.pk: row for row in Rubric.objects.select_for_update().filter(urn=rubric.urn)}
    rubric = versions[rubric.pk]
    if rubric.in_force:
        latest = RubricPublication.objects.filter(rubric=rubric).first()
        return RubricPublish(rubric=rubric, publication=latest, started=False)
    running = (
        RubricPublication.objects.filter(rubric__urn=rubric.urn)
        .exclude(state=RubricPublication.State.DONE)
        .select_related("rubric")
        .first()
    )
    if running is not None:
        raise ServiceError(
            f"{running.rubric} is still being re-scored ({running.finished_count:,} of "
            f"{running.total:,} filings); publish another version once it is done."
        )
    previous = next((row for row in versions.values() if row.in_force), None)
    publication = RubricPublication.objects.create(
        rubric=rubric,
        previous_rubric=previous,
        published_by=acting_user if acting_user is not None else None,
    )
    _put_in_force(rubric, acting_user, publication)
    outbox_enqueue(task=RESCORE_PLAN_TASK, kwargs={"publication_id": publication.pk})
    return RubricPublish(rubric=rubric, publication=publication, started=True)


def rubric_by_reference(reference: str) -> Rubric:
    """A stored rubric named `urn@version` (or the newest stored version of `urn`)."""
    urn, _, version = reference.partition("@")
    rows = Rubric.objects.filter(urn=urn)
    if version:
        rows = rows.filter(version=version)
    candidates = list(rows)
    if not candidates:
        known = ", ".join(f"{r.urn}@{r.version}" for r in Rubric.objects.all()) or "none"
        raise ServiceError(f"No stored rubric {reference!r}; stored: {known}.")
    return max(candidates, key=lambda row: row.engine_form().version_key)
