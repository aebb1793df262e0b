"""Attaching model cards, diagnostics and evidence to a filing, and building its facts.

Each attach is one transaction: the file is parsed, stored, recorded and the revision's
facts rebuilt; a parse error or a conflict with what is already filed rolls all of it back,
so a rejected upload leaves nothing behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from audits import intake
from audits.errors import TransitionRefused
from audits.intake.aliases import Aliases, default_aliases
from audits.intake.types import Imported, IntakeError, imported_from_dict, imported_to_dict
from audits.models import DiagnosticUpload, Evidence, Facts, MetricAlias, ModelCard, Submission
from audits.roles import require_lab_member
from audits.services.audit_log import audit_event_record
from audits.services.files import stored_file_put

Status = Submission.Status
DIAGNOSTIC_KINDS = {"diagnostics_table", "lm_eval", "inspect"}
# Where facts come from when the submission record itself supplies them.
SUBMISSION_SOURCE = "submission record"


@dataclass(frozen=True)
class AttachOutcome:
    upload: ModelCard | DiagnosticUpload | Evidence
    imported: Imported | None
    facts: Facts


def working_revision(submission: Submission) -> int:
    """The revision new files belong to: the draft's, or the next one after a change request."""
    if submission.status == Status.DRAFT:
        return submission.revision
    if submission.status == Status.CHANGES_REQUESTED:
        return submission.revision + 1
    raise TransitionRefused(
        f"Submission {submission.reference} is {submission.status}; files can be added to a draft, "
        "or after a regulator requests changes.",
        details={"current": submission.status},
    )


def aliases_in_force() -> Aliases:
    """The shipped alias file extended by the rows regulator admins added."""
    extra = dict(MetricAlias.objects.values_list("pattern", "metric"))
    return default_aliases().extended(extra) if extra else default_aliases()


def _locked_for_upload(submission: Submission, acting_user: Any) -> tuple[Submission, int]:
    submission = (
        Submission.objects.select_for_update()
        .select_related("organization", "model")
        .get(pk=submission.pk)
    )
    require_lab_member(acting_user, submission.organization)
    return submission, working_revision(submission)


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
    acting_user: Any,
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
    audit_event_record(
        actor=acting_user,
        action=action,
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={"file": file_name, "sha256": upload.stored_file.sha256, "revision": revision},
    )
    return AttachOutcome(upload=upload, imported=imported, facts=facts)


@transaction.atomic
def model_card_attach(
    *, submission: Submission, acting_user: Any, file_name: str, content: bytes
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
    acting_user: Any,
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
    acting_user: Any,
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
    acting_user: Any,
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


def imports_for_revision(submission: Submission, revision: int) -> tuple[list[Imported], set[str]]:
    """Every input a revision's facts merge, oldest first, and the sources marked superseded.

    A revision carries the files of the revisions before it: answering a change request
    means adding or superseding files, not uploading everything again.
    """
    cards = ModelCard.objects.filter(submission=submission, revision__lte=revision).order_by(
        "uploaded_at", "id"
    )
    diagnostics = DiagnosticUpload.objects.filter(
        submission=submission, revision__lte=revision
    ).order_by("uploaded_at", "id")
    evidence = Evidence.objects.filter(submission=submission, revision__lte=revision).order_by(
        "uploaded_at", "id"
    )
    imports = [imported_from_dict(card.extracted) for card in cards]
    imports += [imported_from_dict(upload.extracted) for upload in diagnostics]
    superseded = {upload.supersedes for upload in diagnostics if upload.supersedes}
    if evidence:
        imports.append(
            Imported(
                source="evidence uploads",
                kind="evidence",
                evidence=[
                    {"file": item.file_name, "description": item.description} for item in evidence
                ],
            )
        )
    supplied = {path for imported in imports for path in imported.fields}
    identity = Imported(source=SUBMISSION_SOURCE, kind="submission")
    for path, value in (
        ("model.name", submission.model.name),
        ("model.version", submission.model_version),
    ):
        if path not in supplied:
            identity.set_fact(path, value, intake.Location(file=SUBMISSION_SOURCE, field=path))
    imports.append(identity)
    return imports, superseded


def facts_build(*, submission: Submission, revision: int | None = None) -> Facts:
    """Merge a revision's inputs into its facts row (created or replaced).

    Raises IntakeError/IntakeErrors on conflicting inputs; the caller's transaction then
    rolls back whatever upload caused it.
    """
    revision = revision or submission.revision
    imports, superseded = imports_for_revision(submission, revision)
    merged = intake.merge(imports, superseded=superseded)
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
            "sha256": merged.sha256,
        },
    )
    return facts
