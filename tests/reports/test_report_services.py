"""Requesting and rendering reports: versions, the audit trail, idempotency and failures."""

import pytest
from django.db import OperationalError

from audits.errors import ServiceError
from audits.models import AuditEvent, Report, StoredFile
from audits.services import reports as report_service
from audits.services.reports import REPORT_MAX_ATTEMPTS, report_render, report_request
from audits.services.submissions import submission_create
from govportal.celery import app as celery_app
from tests.reports.factories import pending_report, submitted_filing


def test_a_request_makes_the_next_pending_version_and_renders_it_after_commit(
    lab_member, django_capture_on_commit_callbacks, monkeypatch
):
    # In-process tasks, as in the embedded mode, whatever broker this run has.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    submission, assessment = submitted_filing(lab_member=lab_member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = report_request(submission=submission, kind="provisional", acting_user=lab_member)
    assert (first.version, first.kind, first.status, first.assessment_id) == (
        1, "provisional", "pending", assessment.pk,
    )  # fmt: skip
    assert len(callbacks) == 1  # nothing is enqueued before the transaction commits
    event = AuditEvent.objects.filter(action="report.request").get()
    assert event.payload["version"] == 1 and event.actor == lab_member

    with django_capture_on_commit_callbacks(execute=True):
        second = report_request(submission=submission, kind="final")
    # Eager mode: the tasks ran when the transaction committed. A final version is issued
    # in both variants, each signed; the confidential one is returned.
    finals = {r.variant: r for r in Report.objects.filter(submission=submission, version=2)}
    assert second.variant == "confidential" and set(finals) == {"confidential", "public"}
    for report in finals.values():
        assert (report.kind, report.status, report.attempts) == ("final", "ready", 1)
        assert report.pdf.sha256 == report.sha256 and report.is_signed
    assert finals["confidential"].sha256 != finals["public"].sha256
    issued = AuditEvent.objects.filter(action="report.issue").order_by("sequence")
    assert sorted(e.payload["sha256"] for e in issued) == sorted(r.sha256 for r in finals.values())
    request = AuditEvent.objects.filter(action="report.request").order_by("sequence").last()
    assert request.payload["variants"] == ["confidential", "public"]


def test_a_request_without_an_assessment_is_refused(lab_member):
    submission = submission_create(acting_user=lab_member, model_name="Atlas", model_version="1")
    with pytest.raises(ServiceError, match="no assessment of revision 1"):
        report_request(submission=submission, kind="provisional")
    assert not Report.objects.exists()


def test_rendering_twice_keeps_one_report_and_one_pdf(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)
    first = report_render(report_id=report.pk)
    pdfs_after_first = StoredFile.objects.filter(content_type="application/pdf").count()
    second = report_render(report_id=report.pk)
    assert first.status == second.status == "ready"
    assert first.sha256 == second.sha256 and first.pdf_id == second.pdf_id
    assert second.attempts == 1  # a ready report is returned as it is, not rendered again
    assert Report.objects.filter(submission=submission).count() == 1
    assert StoredFile.objects.filter(content_type="application/pdf").count() == pdfs_after_first


def test_a_render_that_fails_records_a_readable_error(lab_member, monkeypatch):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)

    def broken(*args, **kwargs):
        raise ValueError("the template divided by zero")

    monkeypatch.setattr(report_service, "write_report_pdf", broken)
    failed = report_render(report_id=report.pk)
    assert failed.status == "failed" and not failed.sha256
    assert failed.error.startswith("Rendering failed (ValueError: the template divided by zero)")

    monkeypatch.undo()
    recovered = report_render(report_id=report.pk)
    assert (recovered.status, recovered.attempts, recovered.error) == ("ready", 2, "")
    # Every move of the report is on the record, the failure with its reason.
    moves = list(
        AuditEvent.objects.filter(action__startswith="report.")
        .exclude(action="report.request")
        .order_by("sequence")
        .values_list("action", "payload__attempt")
    )
    assert moves[:3] == [("report.running", 1), ("report.failed", 1), ("report.running", 2)]
    failure = AuditEvent.objects.get(action="report.failed")
    assert "divided by zero" in failure.payload["error"]


def test_a_transient_error_is_recorded_and_raised_for_the_task_to_retry(lab_member, monkeypatch):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)

    def flaky(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(report_service, "write_report_pdf", flaky)
    with pytest.raises(OperationalError):
        report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "failed"
    assert "temporary error" in report.error and "retried automatically" in report.error


def test_attempts_are_bounded(lab_member):
    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)
    Report.objects.filter(pk=report.pk).update(status="running", attempts=REPORT_MAX_ATTEMPTS)
    given_up = report_render(report_id=report.pk)
    assert given_up.status == "failed" and "gave up" in given_up.error
    assert given_up.attempts == REPORT_MAX_ATTEMPTS


def test_the_task_renders_by_id(lab_member):
    from audits.tasks import report_render_task

    submission, assessment = submitted_filing(lab_member=lab_member)
    report = pending_report(submission, assessment)
    assert report_render_task.apply(args=[report.pk]).get() == "ready"
    assert report_render_task.apply(args=[report.pk]).get() == "ready"
    report.refresh_from_db()
    assert report.attempts == 1


def test_a_preparation_copy_is_marked_and_writes_nothing(lab_member, django_assert_num_queries):
    from tests.reports.conftest import pdf_text
    from tests.reports.factories import demo_facts_and_result

    document, provenance, _, result = demo_facts_and_result()
    with django_assert_num_queries(0):
        pdf = report_adhoc_pdf_call(document, provenance, result)
    text = pdf_text(pdf)
    assert "NOT FILED" in text and "Preparation copy" in text
    assert "Tessellate Coder" in text


def report_adhoc_pdf_call(document, provenance, result):
    return report_service.report_adhoc_pdf(
        facts_document=document,
        result=result,
        narrative=[{"title": "Overview", "markdown": "Hello *world*", "file": "README.md"}],
        provenance=provenance,
    )
