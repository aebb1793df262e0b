"""Issuing, rendering and verifying the PDF transparency audit reports.

A report version is requested inside the transaction of the change that calls for it
(submission: provisional; decision: final), rendered by a Celery task after that
transaction commits, stored once under its SHA-256 and never modified afterwards. Anyone
holding a PDF can ask which report it is, or learn that the portal never issued it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from audits.errors import ServiceError
from audits.models import Assessment, Report, Rubric, Submission
from audits.reports import verify
from audits.reports.html import ReportInputs, render_report_html, report_inputs_for
from audits.reports.pdf import write_report_pdf
from audits.services.audit_log import audit_event_record
from audits.services.files import stored_file_put
from audits.services.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

# A report whose rendering has started this many times without finishing is given up on:
# a worker that dies on every attempt (out of memory, say) must not loop forever.
REPORT_MAX_ATTEMPTS = 5
# Errors worth another attempt: the database or the file storage was briefly unavailable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)

Kind = Report.Kind
Status = Report.Status


def _report_label(report: Report) -> str:
    return f"{report.submission.reference}/v{report.version}"


@transaction.atomic
def report_request(*, submission: Submission, kind: str, acting_user: Any | None = None) -> Report:
    """Create the next report version (pending) for the latest assessment of the current
    revision, record it, and render it once this transaction commits.

    Raises ServiceError if the current revision has no assessment yet.
    """
    if kind not in Kind.values:
        raise ServiceError(f"A report is provisional or final, not {kind!r}.")
    # The submission row lock serializes version numbers between concurrent requests.
    submission = (
        Submission.objects.select_for_update().select_related("organization").get(pk=submission.pk)
    )
    assessment = (
        Assessment.objects.filter(submission=submission, revision=submission.revision)
        .order_by("-created_at", "-id")
        .first()
    )
    if assessment is None:
        raise ServiceError(
            f"Submission {submission.reference} has no assessment of revision "
            f"{submission.revision}; run the assessment before requesting a report.",
            details={"revision": submission.revision},
        )
    latest = Report.objects.filter(submission=submission).aggregate(latest=Max("version"))
    version = (latest["latest"] or 0) + 1
    report = Report.objects.create(
        submission=submission,
        revision=submission.revision,
        version=version,
        kind=kind,
        assessment=assessment,
        status=Status.PENDING,
    )
    audit_event_record(
        actor=acting_user,
        action="report.request",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={
            "report_id": report.pk,
            "version": version,
            "kind": kind,
            "revision": submission.revision,
            "assessment_id": assessment.pk,
        },
    )
    message = outbox_enqueue(task="audits.report_render", kwargs={"report_id": report.pk})
    report.task_id = f"outbox-{message.pk}"
    report.save(update_fields=["task_id"])
    return report


def _start(report_id: int) -> tuple[Report, bool]:
    """Mark the report running and count the attempt; (report, whether to render)."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update()
            .select_related("submission__organization")
            .get(pk=report_id)
        )
        if report.status == Status.READY:
            return report, False
        if report.attempts >= REPORT_MAX_ATTEMPTS:
            report.status = Status.FAILED
            report.error = (
                f"Rendering was started {report.attempts} times without finishing; the portal "
                "gave up. Ask an administrator to look at the worker logs and request a new "
                "report version."
            )
            report.save(update_fields=["status", "error"])
            return report, False
        report.status = Status.RUNNING
        report.attempts += 1
        report.error = ""
        report.save(update_fields=["status", "attempts", "error"])
        return report, True


def report_render(*, report_id: int) -> Report:
    """Render a requested report, store its PDF and mark it ready. Idempotent.

    A ready report is returned as it is. Rendering runs outside any transaction (it takes
    a second or more); the result is stored under a row lock, so two workers given the
    same report store one PDF and one hash. On an error the report is marked failed with
    a readable reason; transient errors (database, storage) are raised again afterwards so
    that the task retries.
    """
    report, should_render = _start(report_id)
    if not should_render:
        return report
    try:
        pdf = render_report_pdf(report)
        return _finish(report_id, pdf)
    except Exception as error:
        _fail(report_id, error)
        if isinstance(error, TRANSIENT_ERRORS):
            raise
        return Report.objects.get(pk=report_id)


def render_report_pdf(report: Report) -> bytes:
    """The PDF of a report row, from its stored inputs (no writes)."""
    inputs = report_inputs_for(
        Report.objects.select_related(
            "submission__organization", "submission__model", "assessment__rubric"
        ).get(pk=report.pk)
    )
    return write_report_pdf(render_report_html(inputs), dated=inputs.assessed_at)


@transaction.atomic
def _finish(report_id: int, pdf: bytes) -> Report:
    report = (
        Report.objects.select_for_update()
        .select_related("submission__organization")
        .get(pk=report_id)
    )
    if report.status == Status.READY:
        return report  # another worker finished first; its PDF stands
    stored = stored_file_put(
        name=f"{report.submission.reference}-v{report.version}-{report.kind}.pdf",
        content=pdf,
        content_type="application/pdf",
    )
    report.pdf = stored
    report.sha256 = stored.sha256
    report.status = Status.READY
    report.error = ""
    report.rendered_at = timezone.now()
    report.save(update_fields=["pdf", "sha256", "status", "error", "rendered_at"])
    audit_event_record(
        actor=None,
        action="report.issue",
        object_type="submission",
        object_id=report.submission.reference,
        organization=report.submission.organization,
        payload={
            "report_id": report.pk,
            "version": report.version,
            "kind": report.kind,
            "revision": report.revision,
            "sha256": report.sha256,
            "attempts": report.attempts,
        },
    )
    return report


def _readable(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, TRANSIENT_ERRORS):
        return (
            f"Rendering was interrupted by a temporary error ({name}: {error}); it will be "
            "retried automatically."
        )
    if name == "SoftTimeLimitExceeded":
        return "Rendering took longer than the time allowed and was stopped."
    return f"Rendering failed ({name}: {error}). Request a new report version once fixed."


def _fail(report_id: int, error: BaseException) -> None:
    logger.exception("report %s failed to render", report_id, exc_info=error)
    try:
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report_id)
            if report.status == Status.READY:
                return
            report.status = Status.FAILED
            report.error = _readable(error)[:2000]
            report.save(update_fields=["status", "error"])
    except (OperationalError, InterfaceError, IntegrityError):
        # The database itself is the problem; the retry will record the outcome.
        logger.exception("could not record the failure of report %s", report_id)


def _rubric_content(result: dict[str, Any]) -> dict[str, Any] | None:
    """The rubric's content for a preparation copy: from the shipped files, else the DB."""
    rubric = result.get("rubric") or {}
    urn, version = rubric.get("urn"), rubric.get("version")
    if not urn or not version:
        return None
    from audits import rubric as engine

    try:
        found = engine.find_rubric(engine.available_rubrics(), f"{urn}@{version}")
        return dict(found.content)
    except engine.RubricError:
        pass
    row = Rubric.objects.filter(urn=urn, version=version).only("content").first()
    return dict(row.content) if row else None


def report_adhoc_pdf(
    *,
    facts_document: dict[str, Any],
    result: dict[str, Any],
    narrative: list[dict[str, Any]] | None = None,
    provenance: dict[str, Any] | None = None,
    prepared_at: datetime | None = None,
) -> bytes:
    """The standard report for a filing that was never submitted (`manage.py assess --pdf`).

    Marked "not filed — for preparation only" on every page; writes nothing.
    """
    moment = prepared_at or timezone.now()
    model = facts_document.get("model") or {}
    inputs = ReportInputs(
        reference="NOT FILED",
        lab=str(model.get("developer") or "—"),
        model_name=str(model.get("name") or "—"),
        model_version=str(model.get("version") or "—"),
        revision=0,
        report_version=None,
        kind="preparation",
        issued_at=moment,
        assessed_at=moment,
        result=result,
        facts_document=facts_document,
        facts_sha256=str(result.get("facts_sha256") or ""),
        rubric_content=_rubric_content(result),
        narrative=list(narrative or []),
        provenance=dict(provenance or {}),
    )
    return write_report_pdf(render_report_html(inputs), dated=moment)


def report_verify(*, content: bytes | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Say whether the portal issued a PDF (given as bytes) or a SHA-256, and which report.

    Returns `{"issued": bool, "sha256": str, "message": str, "report": {...} | None,
    "embedded_assessment": "matches" | "differs" | "absent" | None}`; for uploaded bytes
    the embedded `assessment.json` is compared with the stored assessment.
    """
    if content is None and not sha256:
        raise ServiceError("Upload a PDF or give its SHA-256.")
    digest = (
        hashlib.sha256(content).hexdigest()
        if content is not None
        else verify.normalize_sha256(sha256 or "")
    )
    if digest is None:
        raise ServiceError(
            "A SHA-256 is 64 hexadecimal characters (0–9, a–f).", details={"field": "sha256"}
        )
    report = verify.issued_report_for(digest)
    embedded: dict[str, Any] | None = None
    embedded_state: str | None = None
    if content is not None:
        try:
            embedded = verify.embedded_assessment(content)
        except verify.NotAReport:
            embedded = None
        embedded_state = "absent" if embedded is None else None
    if report is None:
        message = "This document was not issued by this portal."
        if content is not None and embedded is not None:
            message += (
                " It carries an assessment.json, but no report the portal issued has this "
                "exact content: it may have been altered after issue."
            )
        return {
            "issued": False,
            "sha256": digest,
            "message": message,
            "report": None,
            "embedded_assessment": embedded_state if embedded is None else "unverified",
        }
    if embedded is not None:
        embedded_state = "matches" if embedded == report.assessment.result else "differs"
    submission = report.submission
    details = {
        "reference": submission.reference,
        "lab": submission.organization.name,
        "model": submission.model.name,
        "model_version": submission.model_version,
        "revision": report.revision,
        "version": report.version,
        "kind": report.kind,
        "issued_at": report.rendered_at or report.created_at,
    }
    superseded = Report.objects.filter(
        submission=submission, version__gt=report.version, status=Status.READY
    ).exists()
    kind_label = report.get_kind_display().lower()
    message = (
        f"Issued by this portal: {kind_label} report version {report.version} of "
        f"{submission.reference} (revision {report.revision})."
    )
    if superseded:
        message += " A later report version has since been issued for this submission."
    return {
        "issued": True,
        "sha256": digest,
        "message": message,
        "report": {**details, "superseded": superseded},
        "embedded_assessment": embedded_state,
    }
