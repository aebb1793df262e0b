"""Two worker "hosts" on different queues, sharing only PostgreSQL, Redis and S3.

Each worker runs in its own working directory with its own MEDIA_ROOT and var/ directory,
as if on its own machine; the web process (this test) has a third. A report rendered by
the report worker is downloaded through the web process from the shared object storage,
and a rubric publication is re-scored by the other worker, on its own queue. Runs where
the worker tests run (CI's PostgreSQL + Redis pass).
"""

import hashlib

from django.urls import reverse

from audits.models import Report, RubricPublication
from audits.services.rubrics import rubric_publish
from audits.services.submissions import submission_submit
from tests.audits.rescoring import filed, newer_rubric  # noqa: F401
from tests.celery_workers import wait_for
from tests.conftest import make_draft
from tests.s3 import s3_server, s3_storage  # noqa: F401
from tests.test_broker_outage import redis_of_our_own, web_process_using  # noqa: F401
from tests.web.conftest import client_for


def _host(tmp_path, name):
    """A machine's own local state: its working directory, uploads folder and var/."""
    root = tmp_path / name
    (root / "media").mkdir(parents=True)
    (root / "var").mkdir()
    return root


def _files_under(directory):
    return [path for path in directory.rglob("*") if path.is_file()]


def test_a_report_rendered_on_one_host_is_downloaded_through_another(
    celery_workers,
    redis_of_our_own,  # noqa: F811
    s3_storage,  # noqa: F811
    media_root,
    newer_rubric,  # noqa: F811
    lab_member,
    regulator_admin,
    tmp_path,
):
    shared = {"CELERY_BROKER_URL": redis_of_our_own.url, **s3_storage.environment}
    hosts = {}
    for name, queues in (("reports-host", "reports"), ("rescoring-host", "rescoring,govportal")):
        root = _host(tmp_path, name)
        local = {"MEDIA_ROOT": str(root / "media"), "GOVPORTAL_VAR_DIR": str(root / "var")}
        hosts[name] = (root, celery_workers(queues, env={**shared, **local}, cwd=root))
    report_worker = hosts["reports-host"][1]
    rescoring_worker = hosts["rescoring-host"][1]
    already_filed = filed(lab_member, "Orion")

    with web_process_using(redis_of_our_own.url):
        submission = submission_submit(
            submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
        )
        report = Report.objects.get(submission=submission)
        publication = rubric_publish(rubric=newer_rubric, acting_user=regulator_admin).publication
        ready = wait_for(
            lambda: Report.objects.filter(pk=report.pk, status__in=["ready", "failed"]).first(),
            timeout=180,
            what="the report, rendered on the reports host",
            process=report_worker,
        )
        assert ready.status == Report.Status.READY, ready.error
        done = wait_for(
            lambda: RubricPublication.objects.filter(pk=publication.pk, state="done").first(),
            timeout=180,
            what="the re-scoring, on the rescoring host",
            process=rescoring_worker,
        )

    # The web process streams the PDF from the shared bucket, after its tenant check.
    response = client_for(lab_member).get(reverse("report-pdf", args=[submission.reference, 1]))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == ready.sha256 and pdf.startswith(b"%PDF")
    assert f"blobs/{ready.sha256[:2]}/{ready.sha256[2:4]}/{ready.sha256}" in (
        s3_storage.object_keys()
    )
    assert done.total >= 2 and done.failed == 0
    already_filed.refresh_from_db()
    assert already_filed.current_assessment.rubric == newer_rubric

    # Nothing was written to any machine's local disk; each queue went to its own host.
    for root, _ in hosts.values():
        assert _files_under(root / "media") == []
    assert not media_root.exists() or _files_under(media_root) == []
    logs = {}
    for name, (_, worker) in hosts.items():
        worker.terminate()
        logs[name] = worker.communicate(timeout=30)[0]
    # (A worker's banner lists every task it knows; a task it ran logs "Task NAME[id] ...".)
    assert "Task audits.report_render[" in logs["reports-host"]
    assert "Task audits.rubric_rescore" not in logs["reports-host"]
    assert "Task audits.rubric_rescore_chunk[" in logs["rescoring-host"]
    assert "Task audits.report_render[" not in logs["rescoring-host"]
