"""Issuing, rendering, signing and verifying the PDF transparency audit reports.

A report version is requested inside the transaction of the change that calls for it
(submission: provisional; decision: final), rendered by a Celery task after that
transaction commits, stored once under its SHA-256 and never modified afterwards. A final
version is issued in two variants, confidential and public, each signed by the regulator
authority (PAdES). After a decision only a regulator issues another version: a corrected
final report, with a written reason. On-demand versions are limited per filing and hour.
Anyone holding a PDF can ask which report it is, whether its signature holds, or learn
that the portal never issued it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from audits.errors import ServiceError
from audits.models import Assessment, Report, Review, Rubric, Submission
from audits.reports import verify
from audits.reports.html import (
    PROVISIONAL_STATUS,
    ReportInputs,
    render_report_html,
    report_inputs_for,
)
from audits.reports.pdf import write_report_pdf
from audits.reports.signing import (
    SignedPdf,
    SigningConfigurationError,
    sign_report_pdf,
    signing_identity,
)
from audits.reports.software import software_version
from audits.roles import ensure, may_decide, may_see_submission
from audits.services.audit_log import audit_event_record
from audits.services.files import stored_file_put
from audits.services.locks import submission_lock
from audits.services.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

# A report whose rendering has started this many times without finishing is given up on:
# a worker that dies on every attempt (out of memory, say) must not loop forever.
REPORT_MAX_ATTEMPTS = 5
# Errors worth another attempt: the database or the file storage was briefly unavailable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)

Kind = Report.Kind
Status = Report.Status
Variant = Report.Variant
DECIDED = (Submission.Status.ACCEPTED, Submission.Status.REJECTED)


class ReportRateLimited(ServiceError):
    """Too many on-demand report versions for one filing within the hour."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


def _report_label(report: Report) -> str:
    return f"{report.submission.reference}/v{report.version}"


def _rate_limit(submission: Submission) -> None:
    """Refuse an on-demand version when the filing already had its hourly allowance."""
    limit = settings.REPORT_REQUESTS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    versions = dict(
        Report.objects.filter(submission=submission, created_at__gte=since)
        .values("version")
        .annotate(first=Min("created_at"))
        .values_list("version", "first")
    )
    if len(versions) < limit:
        return
    oldest = min(versions.values())
    retry_after = max(1, math.ceil((oldest + timedelta(hours=1) - timezone.now()).total_seconds()))
    raise ReportRateLimited(
        f"Submission {submission.reference} has had {len(versions)} report versions in the "
        f"last hour; at most {limit} per hour are issued. Try again in "
        f"{math.ceil(retry_after / 60)} minute{'s' if retry_after > 60 else ''}.",
        retry_after=retry_after,
    )


@transaction.atomic
def report_provisional_request(*, submission: Submission, acting_user: Any) -> Report:
    """A provisional report of the current revision, on request (lab members, regulators).

    Refused once the filing is decided: the final report stands, and only a regulator
    issues a corrected one (`report_correct`). Limited to REPORT_REQUESTS_PER_HOUR
    versions per filing (ReportRateLimited).
    """
    ensure(
        may_see_submission(acting_user, submission),
        f"Only members of {submission.organization.name} and regulators may request a report.",
    )
    submission = submission_lock(submission)
    if submission.status in DECIDED:
        raise ServiceError(
            f"Submission {submission.reference} is {submission.status}: its final report "
            "stands, and no provisional report follows a decision. A regulator may issue a "
            "corrected final report, with a written reason.",
            details={"status": submission.status},
        )
    _rate_limit(submission)
    return report_request(submission=submission, kind=Kind.PROVISIONAL, acting_user=acting_user)


@transaction.atomic
def report_correct(*, submission: Submission, acting_user: Any, reason: str) -> Report:
    """Issue a corrected final report of a decided filing (assigned reviewer, regulator
    admins), with the written reason printed in it and recorded as an audit event."""
    submission = submission_lock(submission)
    ensure(
        may_decide(acting_user, submission),
        f"Only the reviewer assigned to {submission.reference} or a regulator admin may issue "
        "a corrected final report.",
    )
    if submission.status not in DECIDED:
        raise ServiceError(
            f"Submission {submission.reference} is {submission.status}; a corrected final "
            "report follows a decision (accepted or rejected).",
            details={"status": submission.status},
        )
    reason = reason.strip()
    if not reason:
        raise ServiceError(
            "A corrected final report needs a written reason.", details={"field": "reason"}
        )
    previous = (
        Report.objects.filter(submission=submission, kind=Kind.FINAL)
        .aggregate(latest=Max("version"))
        .get("latest")
    )
    _rate_limit(submission)
    report = report_request(
        submission=submission,
        kind=Kind.FINAL,
        acting_user=acting_user,
        correction_reason=reason,
        corrects_version=previous,
    )
    audit_event_record(
        actor=acting_user,
        action="report.correct",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={"version": report.version, "corrects_version": previous, "reason": reason},
    )
    return report


def _rubric_status(assessment: Assessment) -> str:
    return "in force" if assessment.rubric.in_force else "superseded"


@transaction.atomic
def report_request(
    *,
    submission: Submission,
    kind: str,
    acting_user: Any | None = None,
    correction_reason: str = "",
    corrects_version: int | None = None,
) -> Report:
    """Create the next report version (pending) for the latest assessment of the current
    revision, record it, and render it once this transaction commits. A final version is
    created in both variants; the confidential one is returned.

    The lifecycle calls this within its transitions; on-demand requests go through
    `report_provisional_request` and `report_correct`, which check who asks and how often.
    Raises ServiceError if the current revision has no assessment yet.
    """
    if kind not in Kind.values:
        raise ServiceError(f"A report is provisional or final, not {kind!r}.")
    submission = submission_lock(submission)
    assessment = (
        Assessment.objects.filter(submission=submission, revision=submission.revision)
        .select_related("rubric")
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
    variants = (
        [Variant.CONFIDENTIAL, Variant.PUBLIC] if kind == Kind.FINAL else [Variant.CONFIDENTIAL]
    )
    rows = [
        Report.objects.create(
            submission=submission,
            revision=submission.revision,
            version=version,
            kind=kind,
            variant=variant,
            assessment=assessment,
            status=Status.PENDING,
            rubric_status=_rubric_status(assessment),
            correction_reason=correction_reason,
            corrects_version=corrects_version,
        )
        for variant in variants
    ]
    audit_event_record(
        actor=acting_user,
        action="report.request",
        object_type="submission",
        object_id=submission.reference,
        organization=submission.organization,
        payload={
            "report_id": rows[0].pk,
            "report_ids": [row.pk for row in rows],
            "version": version,
            "kind": kind,
            "variants": [row.variant for row in rows],
            "revision": submission.revision,
            "assessment_id": assessment.pk,
        },
    )
    for row in rows:
        message = outbox_enqueue(task="audits.report_render", kwargs={"report_id": row.pk})
        row.task_id = f"outbox-{message.pk}"
        row.save(update_fields=["task_id"])
    return rows[0]


def _start(report_id: int) -> tuple[Report, bool]:
    """Mark the report running and count the attempt; (report, whether to render)."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
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
            _record_status(report)
            return report, False
        report.status = Status.RUNNING
        report.attempts += 1
        report.error = ""
        report.save(update_fields=["status", "attempts", "error"])
        _record_status(report)
        return report, True


def _record_status(report: Report) -> None:
    """A report's move to running or failed is on the record, like its request and issue."""
    audit_event_record(
        actor=None,
        action=f"report.{report.status}",
        object_type="submission",
        object_id=report.submission.reference,
        organization=report.submission.organization,
        payload={
            "report_id": report.pk,
            "version": report.version,
            "variant": report.variant,
            "attempt": report.attempts,
            "error": report.error,
        },
    )


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
        signed = sign_report(report, pdf) if report.kind == Kind.FINAL else None
        return _finish(report_id, pdf, signed)
    except Exception as error:
        _fail(report_id, error)
        if isinstance(error, TRANSIENT_ERRORS):
            raise
        return Report.objects.get(pk=report_id)


def render_report_pdf(report: Report) -> bytes:
    """The PDF of a report row, from its stored inputs (no writes), before any signature:
    the same rows (and, for a final report, the same signing certificate) give the same
    bytes."""
    inputs = report_inputs_for(
        Report.objects.select_related(
            "submission__organization", "submission__model", "assessment__rubric"
        ).get(pk=report.pk)
    )
    if report.kind == Kind.FINAL:
        identity = signing_identity()
        inputs = dataclasses.replace(
            inputs, signer={"subject": identity.subject, "fingerprint": identity.fingerprint}
        )
    return write_report_pdf(render_report_html(inputs), dated=inputs.assessed_at)


def sign_report(report: Report, pdf: bytes) -> SignedPdf:
    """`pdf` (a rendering of `report`) signed by the authority in an incremental update."""
    label = "public" if report.variant == Variant.PUBLIC else "confidential"
    return sign_report_pdf(
        pdf,
        reason=(
            f"Final transparency audit report {report.submission.reference}, version "
            f"{report.version} ({label} variant)"
        ),
        location=settings.PORTAL_BASE_URL,
    )


@transaction.atomic
def _finish(report_id: int, pdf: bytes, signed: SignedPdf | None = None) -> Report:
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("submission__organization")
        .get(pk=report_id)
    )
    if report.status == Status.READY:
        return report  # another worker finished first; its PDF stands
    stored = stored_file_put(
        name=report_file_name(report),
        content=signed.content if signed else pdf,
        content_type="application/pdf",
    )
    report.pdf = stored
    report.sha256 = stored.sha256
    report.status = Status.READY
    report.error = ""
    report.rendered_at = timezone.now()
    fields = ["pdf", "sha256", "status", "error", "rendered_at"]
    if signed is not None:
        report.unsigned_sha256 = signed.unsigned_sha256
        report.signature_level = signed.level
        report.signer_subject = signed.subject[:500]
        report.signer_fingerprint = signed.fingerprint
        report.signed_at = signed.signed_at
        fields += [
            "unsigned_sha256",
            "signature_level",
            "signer_subject",
            "signer_fingerprint",
            "signed_at",
        ]
    report.save(update_fields=fields)
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
            "variant": report.variant,
            "revision": report.revision,
            "sha256": report.sha256,
            "signer_fingerprint": report.signer_fingerprint,
            "attempts": report.attempts,
        },
    )
    return report


def report_file_name(report: Report) -> str:
    """`TA-2026-000001-v3-final.pdf`, `…-v3-final-public.pdf` for the public variant."""
    suffix = "-public" if report.variant == Variant.PUBLIC else ""
    return f"{report.submission.reference}-v{report.version}-{report.kind}{suffix}.pdf"


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
            report = (
                Report.objects.select_for_update(of=("self",))
                .select_related("submission__organization")
                .get(pk=report_id)
            )
            if report.status == Status.READY:
                return
            report.status = Status.FAILED
            report.error = _readable(error)[:2000]
            report.save(update_fields=["status", "error"])
            _record_status(report)
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

    Marked "not filed — for preparation only" on every page; writes nothing. Dated
    `prepared_at`, else SOURCE_DATE_EPOCH (the reproducible-builds convention: the same
    files and the same SOURCE_DATE_EPOCH give the same bytes), else now.
    """
    moment = prepared_at or source_date_epoch() or timezone.now()
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
        software=software_version(),
    )
    return write_report_pdf(render_report_html(inputs), dated=moment)


def source_date_epoch() -> datetime | None:
    """The moment SOURCE_DATE_EPOCH names (seconds since 1970-01-01 UTC), if it is set."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ServiceError(
            f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds since "
            "1970-01-01 00:00 UTC; unset it to date the copy now."
        )
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise ServiceError(f"SOURCE_DATE_EPOCH={raw!r} is out of range.") from None


def _decision_label(report: Report) -> str:
    if report.kind != Kind.FINAL:
        return PROVISIONAL_STATUS
    review = (
        Review.objects.filter(
            submission=report.submission_id,
            revision=report.revision,
            decision__in=[Review.Decision.ACCEPT, Review.Decision.REJECT],
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return review.get_decision_display() if review else "Final"


def _newest(report: Report) -> Report | None:
    """The newest ready version after `report`, in the same variant when there is one."""
    later = Report.objects.filter(
        submission=report.submission_id, version__gt=report.version, status=Status.READY
    ).order_by("-version")
    return later.filter(variant=report.variant).first() or later.first()


def _report_details(report: Report) -> dict[str, Any]:
    submission = report.submission
    newest = _newest(report)
    return {
        "reference": submission.reference,
        "lab": submission.organization.name,
        "model": submission.model.name,
        "model_version": submission.model_version,
        "revision": report.revision,
        "version": report.version,
        "kind": report.kind,
        "variant": report.variant,
        "decision": _decision_label(report),
        "issued_at": report.rendered_at or report.created_at,
        "signed": report.is_signed,
        "signature_level": report.signature_level,
        "signer_subject": report.signer_subject,
        "signer_fingerprint": report.signer_fingerprint,
        "corrects_version": report.corrects_version,
        "superseded": newest is not None,
        "latest": None
        if newest is None
        else {
            "version": newest.version,
            "kind": newest.kind,
            "variant": newest.variant,
            "decision": _decision_label(newest),
            "issued_at": newest.rendered_at or newest.created_at,
            "sha256": newest.sha256,
        },
    }


def signing_certificate_pem() -> str:
    """The authority's signing certificate and its chain, PEM, as recipients trust them."""
    identity = signing_identity()
    return "".join(
        certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        for certificate in (identity.certificate, *identity.chain)
    )


def _trust_roots() -> list[Any]:
    try:
        return signing_identity().trust_roots()
    except SigningConfigurationError:
        logger.exception("no signing identity to check signatures against")
        return []


def _signature_details(
    check: verify.SignatureCheck | None, report: Report | None
) -> dict[str, Any] | None:
    if check is None:
        return None
    by_issuer = report is not None and check.signer_fingerprint == report.signer_fingerprint
    return {
        "valid": check.sound,
        "unmodified": check.covers_whole_file,
        "trusted": check.trusted,
        "by_portal_authority": by_issuer,
        "signer_subject": check.signer_subject,
        "signer_fingerprint": check.signer_fingerprint,
        "signed_at": check.signed_at,
        "timestamped": check.timestamped,
        "level": report.signature_level if by_issuer and report is not None else "",
        "problem": check.problem,
    }


def _version_text(report: Report) -> str:
    variant = f", {report.variant} variant" if report.kind == Kind.FINAL else ""
    return (
        f"{report.get_kind_display().lower()} report version {report.version} of "
        f"{report.submission.reference} (revision {report.revision}{variant})"
    )


def report_verify(*, content: bytes | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Say whether the portal issued a PDF (given as bytes) or a SHA-256, and which report.

    Returns `{"issued", "state", "sha256", "message", "report", "signature",
    "embedded_assessment"}`. `state` is `issued` (this exact file), `modified` (a signed
    report changed after signing), `unsigned_copy` (a signed report's content without its
    signature) or `not_issued`; `issued` is true only for the first. For uploaded bytes the
    signature is validated (nothing is fetched) and the embedded `assessment.json` is
    compared with the stored assessment.
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
    embedded: dict[str, Any] | None = None
    check: verify.SignatureCheck | None = None
    if content is not None:
        try:
            embedded = verify.embedded_assessment(content)
            check = verify.signature_check(content, trust_roots=_trust_roots())
        except verify.NotAReport:
            embedded, check = None, None

    report = verify.issued_report_for(digest)
    state = "issued"
    if report is None:
        report = verify.issued_report_signed_as(digest)
        state = "unsigned_copy"
    if report is None and check is not None:
        report = verify.issued_report_for(check.signed_revision_sha256)
        state = "modified"
    if report is None:
        return _not_issued(digest, content, embedded, check)

    if embedded is None:
        embedded_state = "absent" if content is not None else None
    else:
        embedded_state = "matches" if embedded == report.assessment.result else "differs"
    details = _report_details(report)
    signature = _signature_details(check, report)
    what = _version_text(report)
    if state == "issued":
        message = f"Issued by this portal: {what}."
        if report.is_signed and signature is not None:
            if signature["valid"] and signature["unmodified"] and signature["by_portal_authority"]:
                message += (
                    f" Its signature is valid ({report.signature_level}, "
                    f"{report.signer_subject}) and the document is unmodified since signing."
                )
            else:
                state = "modified"
                message = (
                    f"This file has the hash of {what}, but its signature does not verify: "
                    "do not rely on it."
                )
        elif report.is_signed:
            message += f" It was issued signed ({report.signature_level}, {report.signer_subject})."
    elif state == "unsigned_copy":
        message = (
            f"Unsigned copy: this is the content of {what} without the authority's signature "
            "the portal issued it with. Its text is as issued, but nothing in this copy proves "
            "it; ask for the signed file and verify that."
        )
    else:
        extra = len(content or b"") - (check.signed_bytes if check else 0)
        message = (
            f"Modified after signing: the signed part of this file is {what}, but "
            f"{extra:,} bytes were added after the signature (an incremental update). The "
            "changes are not the portal's; rely only on the file as issued."
        )
    if details["superseded"]:
        latest = details["latest"]
        message += (
            f" Superseded: version {latest['version']} ({latest['decision'].lower()}) was "
            "issued later."
        )
    return {
        "issued": state == "issued",
        "state": state,
        "sha256": digest,
        "message": message,
        "report": details,
        "signature": signature,
        "embedded_assessment": embedded_state,
    }


def _not_issued(
    digest: str,
    content: bytes | None,
    embedded: dict[str, Any] | None,
    check: verify.SignatureCheck | None,
) -> dict[str, Any]:
    message = "This document was not issued by this portal."
    if check is not None:
        message += (
            f" It carries a signature by {check.signer_subject or 'an unknown signer'}, but "
            "no report the portal issued has this content."
        )
    elif content is not None and embedded is not None:
        message += (
            " It carries an assessment.json, but no report the portal issued has this "
            "exact content: it may have been altered after issue."
        )
    return {
        "issued": False,
        "state": "not_issued",
        "sha256": digest,
        "message": message,
        "report": None,
        "signature": _signature_details(check, None),
        "embedded_assessment": ("absent" if content is not None else None)
        if embedded is None
        else "unverified",
    }
