"""Attaching model cards, diagnostics and evidence to a filing, and building its facts.

Each attach is one transaction: the file is parsed, stored, recorded and the revision's
facts rebuilt; a parse error or a conflict with what is already filed rolls all of it back,
so a rejected upload leaves nothing behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from audits import intake
from audits.errors import ServiceError, TransitionRefused
from audits.intake.types import Imported, IntakeError, imported_to_dict
from audits.models import DiagnosticUpload, Evidence, Facts, ModelCard, Submission
from audits.roles import ensure, may_work_on_filing
from audits.selectors import aliases_in_force, facts_merge
from audits.services.audit_log import submission_event_record
from audits.services.files import stored_file_put, stored_file_release
from audits.services.locks import submission_lock

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DIAGNOSTIC_KINDS = intake.DIAGNOSTIC_KINDS


@dataclass(frozen=True)
class AttachOutcome:
    upload: ModelCard | DiagnosticUpload | Evidence
    imported: Imported | None
    facts: Facts


def _locked_for_upload(submission: Submission, acting_user: User) -> tuple[Submission, int]:
    submission = submission_lock(submission)
    ensure(
        may_work_on_filing(acting_user, submission),
        f"Only members of {submission.organization.name} may change its filing.",
    )
    if not submission.is_editable:
        raise TransitionRefused(
            f"Submission {submission.reference} is {submission.status}; files can be added to "
            "a draft, or after a regulator requests changes.",
            details={"current": submission.status},
        )
    return submission, submission.working_revision


def _import(file_name: str, content: bytes) -> Imported:
    return intake.import_file(
        file_name,
        content,
        aliases=aliases_in_force(),
        max_bytes=settings.GOVPORTAL_MAX_UPLOAD_BYTES,
    )


def _attach(
    submission: Submission,
    revision: int,
    acting_user: User,
    *,
    upload_model: type[ModelCard] | type[DiagnosticUpload] | type[Evidence],
    action: str,
    file_name: str,
    content: bytes,
    imported: Imported | None,
    **upload_fields: Any,
) -> AttachOutcome:
    """Store the bytes, record the upload against `revision`, rebuild the facts.

    The caller holds the submission's row lock (`_locked_for_upload`).
    """
    if imported is not None:
        upload_fields |= {
            "format": imported.kind,
            "extracted": imported_to_dict(imported),
            "warnings": [warning.as_dict() for warning in imported.warnings],
        }
    upload = upload_model.objects.create(
        submission=submission,
        revision=revision,
        stored_file=stored_file_put(name=file_name, content=content),
        file_name=file_name,
        uploaded_by=acting_user,
        **upload_fields,
    )
    facts = facts_build(submission=submission, revision=revision)
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action=action,
        payload={"file": file_name, "sha256": upload.stored_file.sha256, "revision": revision},
    )
    return AttachOutcome(upload=upload, imported=imported, facts=facts)


@transaction.atomic
def model_card_attach(
    *, submission: Submission, acting_user: User, file_name: str, content: bytes
) -> AttachOutcome:
    """Attach a model card or native filing (any supported format) to the working revision."""
    submission, revision = _locked_for_upload(submission, acting_user)  # before parsing
    imported = _import(file_name, content)
    if imported.kind in DIAGNOSTIC_KINDS:
        raise IntakeError(
            f"this is a diagnostics file ({imported.kind}); "
            "upload it as diagnostics, not as a model card",
            file=file_name,
        )
    return _attach(
        submission,
        revision,
        acting_user,
        upload_model=ModelCard,
        action="model_card.attach",
        file_name=file_name,
        content=content,
        imported=imported,
    )


@transaction.atomic
def filing_document_attach(
    *,
    submission: Submission,
    acting_user: User,
    document: dict[str, Any],
    file_name: str = "filing.json",
) -> AttachOutcome:
    """Attach filing fields given as a document (a form or an API body) as a native filing."""
    content = json.dumps(document, indent=2, sort_keys=True, allow_nan=False).encode()
    return model_card_attach(
        submission=submission, acting_user=acting_user, file_name=file_name, content=content
    )


@transaction.atomic
def diagnostics_attach(
    *,
    submission: Submission,
    acting_user: User,
    file_name: str,
    content: bytes,
    supersedes: str = "",
) -> AttachOutcome:
    """Attach a diagnostics file (table, lm-evaluation-harness results, Inspect log).

    `supersedes` names an earlier file whose conflicting values this one replaces.
    """
    submission, revision = _locked_for_upload(submission, acting_user)
    imported = _import(file_name, content)
    if imported.kind not in DIAGNOSTIC_KINDS:
        raise IntakeError(
            f"this is not a diagnostics file but a {imported.kind}; upload it as a model card",
            file=file_name,
        )
    return _attach(
        submission,
        revision,
        acting_user,
        upload_model=DiagnosticUpload,
        action="diagnostics.attach",
        file_name=file_name,
        content=content,
        imported=imported,
        supersedes=supersedes.strip(),
    )


@transaction.atomic
def evidence_attach(
    *,
    submission: Submission,
    acting_user: User,
    file_name: str,
    content: bytes,
    description: str = "",
) -> AttachOutcome:
    """Attach an evidence file (a study, an audit report...). Stored once, listed in the facts."""
    submission, revision = _locked_for_upload(submission, acting_user)
    if not content:
        raise IntakeError("the file is empty", file=file_name)
    return _attach(
        submission,
        revision,
        acting_user,
        upload_model=Evidence,
        action="evidence.attach",
        file_name=file_name,
        content=content,
        imported=None,
        description=description.strip(),
    )


UPLOAD_MODELS: dict[str, type[ModelCard] | type[DiagnosticUpload] | type[Evidence]] = {
    "model-card": ModelCard,
    "diagnostics": DiagnosticUpload,
    "evidence": Evidence,
}
UPLOAD_ACTIONS = {"model-card": "model_card", "diagnostics": "diagnostics", "evidence": "evidence"}


@transaction.atomic
def upload_attach(
    *,
    submission: Submission,
    acting_user: User,
    kind: str,
    file_name: str,
    content: bytes,
    supersedes: str = "",
    description: str = "",
) -> AttachOutcome:
    """Attach a file of `kind` (model-card, diagnostics or evidence): the one entry point
    the portal and the API share."""
    if kind == "model-card":
        return model_card_attach(
            submission=submission, acting_user=acting_user, file_name=file_name, content=content
        )
    if kind == "diagnostics":
        return diagnostics_attach(
            submission=submission,
            acting_user=acting_user,
            file_name=file_name,
            content=content,
            supersedes=supersedes,
        )
    if kind == "evidence":
        return evidence_attach(
            submission=submission,
            acting_user=acting_user,
            file_name=file_name,
            content=content,
            description=description,
        )
    raise ServiceError(
        f"There is no upload of kind {kind!r}; use one of {', '.join(UPLOAD_MODELS)}.",
        details={"field": "kind"},
    )


def _removable_upload(
    submission: Submission, revision: int, kind: str, upload_id: int
) -> ModelCard | DiagnosticUpload | Evidence:
    upload_model = UPLOAD_MODELS.get(kind)
    upload = (
        upload_model.objects.select_related("stored_file")
        .filter(submission=submission, pk=upload_id)
        .first()
        if upload_model
        else None
    )
    if upload is None:
        raise ServiceError(
            f"{submission.reference} has no {kind} upload {upload_id}.", details={"field": "kind"}
        )
    if upload.revision != revision:
        raise TransitionRefused(
            f"{upload.file_name} belongs to revision {upload.revision}, which was submitted; "
            "it stays on record. Upload a corrected file (for diagnostics, marked as "
            "superseding it) instead.",
            details={"revision": upload.revision},
        )
    return upload


@transaction.atomic
def upload_remove(*, submission: Submission, acting_user: User, kind: str, upload_id: int) -> Facts:
    """Remove a file attached to the revision being worked on, and rebuild its facts.

    Files of submitted revisions are part of the record and cannot be removed. The stored
    bytes go once no filing and no report refers to them.
    """
    submission, revision = _locked_for_upload(submission, acting_user)
    upload = _removable_upload(submission, revision, kind, upload_id)
    stored_file = upload.stored_file
    upload.delete()
    facts = facts_build(submission=submission, revision=revision)
    submission_event_record(
        submission=submission,
        acting_user=acting_user,
        action=f"{UPLOAD_ACTIONS[kind]}.remove",
        payload={"file": upload.file_name, "sha256": stored_file.sha256, "revision": revision},
    )
    stored_file_release(stored_file)
    return facts


@transaction.atomic
def upload_replace(
    *,
    submission: Submission,
    acting_user: User,
    kind: str,
    upload_id: int,
    file_name: str,
    content: bytes,
    supersedes: str = "",
    description: str = "",
) -> AttachOutcome:
    """Replace a file of the revision being worked on with another: both steps or neither."""
    upload_remove(submission=submission, acting_user=acting_user, kind=kind, upload_id=upload_id)
    return upload_attach(
        submission=submission,
        acting_user=acting_user,
        kind=kind,
        file_name=file_name,
        content=content,
        supersedes=supersedes,
        description=description,
    )


def facts_build(*, submission: Submission, revision: int | None = None) -> Facts:
    """Merge a revision's inputs into its facts row (created or replaced).

    Raises IntakeError/IntakeErrors on conflicting inputs; the caller's transaction then
    rolls back whatever upload caused it.
    """
    revision = revision or submission.revision
    merged = facts_merge(submission, revision)
    narrative = [
        {"title": section.title, "markdown": section.markdown, **section.location.as_dict()}
        for section in merged.narrative
    ]
    facts, _ = Facts.objects.update_or_create(
        submission=submission,
        revision=revision,
        defaults={
            "document": merged.document,
            "provenance": merged.provenance,
            "warnings": [warning.as_dict() for warning in merged.warnings],
            "missing": merged.missing,
            "narrative": narrative,
            "metadata": merged.metadata,
            "sha256": merged.sha256,
        },
    )
    return facts
