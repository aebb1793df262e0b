"""A real Celery worker process takes a task through the broker and writes to the database.

Runs when CELERY_BROKER_URL and a PostgreSQL DATABASE_URL are set (CI's second run sets both,
with GOVPORTAL_REQUIRE_SERVICES=1 so that a skip there is a failure instead).
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from audits.models import AuditEvent
from audits.tasks import audit_chain_verify_task

ROOT = Path(__file__).resolve().parents[1]


def _services_available() -> str | None:
    if not os.environ.get("CELERY_BROKER_URL"):
        return "CELERY_BROKER_URL is not set"
    if connection.vendor != "postgresql":
        return "the worker needs a database it can share (PostgreSQL)"
    return None


@pytest.fixture
def worker(transactional_db):
    reason = _services_available()
    if reason:
        if os.environ.get("GOVPORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"services required but unavailable: {reason}")
        pytest.skip(reason)
    queue = f"govportal-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    credentials = f"{db['USER']}:{db['PASSWORD'] or ''}"
    database_url = f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "govportal",
            "worker",
            "-Q",
            queue,
            "--concurrency=1",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "DATABASE_CONN_MAX_AGE": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue, process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_worker_runs_a_task_sent_through_the_broker(worker):
    queue, process = worker
    events_before = AuditEvent.objects.count()
    audit_chain_verify_task.apply_async(queue=queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(action="audit_log.verify").first()
        if event is not None:
            break
        assert process.poll() is None, (
            f"worker exited: {process.stdout.read() if process.stdout else ''}"
        )
        time.sleep(0.25)
    else:
        pytest.fail("the task never ran")
    assert event.payload == {"verified_events": events_before, "intact": True}
    assert event.actor_label == "system"
