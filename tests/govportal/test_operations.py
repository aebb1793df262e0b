"""What an operator relies on: probes, metrics, request ids into tasks, JSON logs, Sentry."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import brotli
import pytest
from django.db import transaction

from audits.models import OutboxMessage
from audits.services.outbox import outbox_enqueue, outbox_relay
from tests.govportal.test_settings import _manage, production  # noqa: F401
from tests.s3 import free_port
from tests.test_broker_outage import web_process_using

pytestmark = pytest.mark.django_db


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_checks_the_database_the_broker_and_the_storage(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_names_an_unreachable_broker_without_giving_away_its_address(client, settings):
    url = f"redis://:broker-password-do-not-leak@127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_URL = url
    settings.GOVPORTAL_READINESS_TIMEOUT_SECONDS = 1
    with web_process_using(url):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["failed"] == ["broker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    text = response.content.decode()
    assert "password" not in text and "127.0.0.1" not in text and "redis" not in text


def test_metrics_answer_only_the_scraper_with_the_token(client, settings):
    settings.DEBUG = False
    settings.GOVPORTAL_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # no token configured: no metrics
    settings.GOVPORTAL_METRICS_TOKEN = "scrape-token-1234"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    client.get("/healthz")  # a request for the latency histogram
    with transaction.atomic():
        outbox_enqueue(task="audits.outbox_sweep")  # left unsent: no commit in this test
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-1234")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text
    assert "govportal_outbox_unsent_messages 1.0" in text
    assert 'govportal_reports{status="ready"} 0.0' in text


def test_task_durations_and_failures_are_counted(client, settings, tasks_in_process):
    from govportal import metrics

    def count(task, state):
        return metrics.TASK_DURATION.labels(task=task, state=state)._sum.get(), sum(
            sample.value
            for sample in metrics.TASK_FAILURES.collect()[0].samples
            if sample.labels.get("task") == task and sample.name.endswith("_total")
        )

    before, failures = count("audits.report_render", "FAILURE")
    with transaction.atomic():
        message = outbox_enqueue(task="audits.report_render", kwargs={"report_id": 987654})
    outbox_relay(message_ids=[message.pk])  # runs in this process: no such report
    after, failures_after = count("audits.report_render", "FAILURE")
    assert after > before and failures_after == failures + 1
    settings.GOVPORTAL_METRICS_TOKEN = "t0ken-for-this-test"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-this-test").content
    assert (
        b'govportal_task_failures_total{error="DoesNotExist",task="audits.report_render"}' in text
    )


def test_the_request_id_follows_into_the_tasks_the_request_enqueued(
    client, lab_member, django_capture_on_commit_callbacks, capfd, tasks_in_process
):
    from tests.api.conftest import key_client
    from tests.conftest import make_draft

    draft = make_draft(lab_member)
    api = key_client(lab_member.membership.organization)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = api.post(
            f"/api/v1/submissions/{draft.reference}/submit/",
            {"accuracy_declaration": True},
            format="json",
            HTTP_X_REQUEST_ID="req-7f3a9c21e5",
        )
    assert response.status_code == 200 and response["X-Request-ID"] == "req-7f3a9c21e5"
    message = OutboxMessage.objects.get(task="audits.report_render")
    assert message.headers == {"request_id": "req-7f3a9c21e5"}

    capfd.readouterr()
    for callback in enqueued:
        callback()  # the relay runs the render here, as a worker would
    # The log line of the task names the request that enqueued it.
    logged = capfd.readouterr().err
    assert "[req-7f3a9c21e5] Task audits.report_render[outbox-" in logged, logged[-2000:]

    # An id that could forge a log line is replaced by a fresh one.
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=ERROR fake")
    assert forged["X-Request-ID"] != "x\nlevel=ERROR fake" and len(forged["X-Request-ID"]) == 32


def test_production_mode_logs_one_json_object_per_line(production):  # noqa: F811
    result = _manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('govportal.test').warning('disk %s full', '/var')",
        env=production,
    )
    assert result.returncode == 0, result.stderr
    line = [row for row in result.stderr.splitlines() if "disk" in row][-1]
    record = json.loads(line)
    assert record["message"] == "disk /var full"
    assert record["level"] == "WARNING" and record["logger"] == "govportal.test"
    assert record["request_id"] == "-"


class _SentryIntake(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"] or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_errors_go_to_sentry_when_a_dsn_is_set(production):  # noqa: F811
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _SentryIntake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = _manage(
            "shell",
            "-c",
            "import sentry_sdk; sentry_sdk.capture_exception(ValueError('ops sentry check'))",
            env={**production, "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/42"},
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert any(b"ops sentry check" in body for body in _SentryIntake.received)


def test_the_outbox_sends_each_task_to_its_queue_by_name():
    """The route Celery's send_task takes for each task name the outbox hands over."""
    from govportal.celery import app

    def queue_of(task):
        return app.amqp.router.route({}, task, args=(), kwargs={})["queue"].name

    assert queue_of("audits.report_render") == "reports"
    assert queue_of("audits.rubric_rescore_plan") == "rescoring"
    assert queue_of("audits.rubric_rescore_chunk") == "rescoring"
    assert queue_of("audits.event_dispatch") == "notifications"
    assert queue_of("audits.webhook_deliver") == "notifications"
    assert queue_of("audits.outbox_sweep") == "govportal"
    assert queue_of("audits.audit_chain_verify") == "govportal"
