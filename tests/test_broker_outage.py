"""A broker outage loses nothing: work committed while it is down is done once it is back.

The test runs its own Redis, so it can stop and restart it; the worker (with its beat
sweeping the outbox every second) and this process share only PostgreSQL and that Redis.
Runs where the worker tests run (CI's service pass).
"""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

from audits.models import OutboxMessage, Report
from audits.services.submissions import submission_submit
from govportal.celery import app
from tests.celery_workers import wait_for
from tests.conftest import make_draft

pytestmark = pytest.mark.broker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis:
    def __init__(self, port: int, directory) -> None:
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def web_process_using(broker_url: str):
    """This process sends through `broker_url`, as the web process would."""
    saved = (app.conf.broker_write_url, app.conf.task_always_eager)
    app.conf.broker_write_url = broker_url
    app.conf.task_always_eager = False
    _fresh_connections()
    try:
        yield
    finally:
        app.conf.broker_write_url, app.conf.task_always_eager = saved
        _fresh_connections()


def _fresh_connections() -> None:
    # Connections and producers are pooled for the URL they were made with.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_of_our_own(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = Redis(_free_port(), tmp_path)
    redis.start()
    yield redis
    redis.stop()


def test_work_submitted_during_a_broker_outage_is_done_once_it_is_back(
    celery_workers, redis_of_our_own, lab_member, tmp_path
):
    redis = redis_of_our_own
    worker = celery_workers(
        "govportal,reports",  # the sweep runs on the first, the report on the second
        "--beat",
        "--schedule",
        str(tmp_path / "beat-schedule"),
        env={"CELERY_BROKER_URL": redis.url, "GOVPORTAL_OUTBOX_SWEEP_SECONDS": "1"},
    )
    draft = make_draft(lab_member)
    with web_process_using(redis.url):
        redis.stop()
        submission = submission_submit(
            submission=draft, acting_user=lab_member, accuracy_declared=True
        )

        report = Report.objects.get(submission=submission)
        assert report.status == Report.Status.PENDING
        message = OutboxMessage.objects.get(task="audits.report_render")
        assert message.sent_at is None
        assert message.last_error  # it tried, and kept the message

        redis.start()
        wait_for(
            lambda: Report.objects.filter(pk=report.pk, status__in=["ready", "failed"]).first(),
            timeout=120,
            what="the report of the submission made during the outage",
            process=worker,
        )
    report.refresh_from_db()
    assert report.status == Report.Status.READY, report.error
    message.refresh_from_db()
    assert message.sent_at is not None
