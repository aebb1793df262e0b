"""A real Celery worker process takes a task through the broker and writes to the database.

Runs when CELERY_BROKER_URL and a PostgreSQL DATABASE_URL are set (CI's second run sets both,
with GOVPORTAL_REQUIRE_SERVICES=1 so that a skip there is a failure instead).
"""

import uuid

import pytest

from audits.models import AuditEvent
from audits.tasks import audit_chain_verify_task
from tests.celery_workers import wait_for

pytestmark = pytest.mark.broker


def test_a_worker_runs_a_task_sent_through_the_broker(celery_workers):
    queue = f"govportal-test-{uuid.uuid4().hex[:8]}"
    process = celery_workers(queue)
    events_before = AuditEvent.objects.count()
    audit_chain_verify_task.apply_async(queue=queue)
    event = wait_for(
        lambda: AuditEvent.objects.filter(action="audit_log.verify").first(),
        timeout=60,
        what="the task to run",
        process=process,
    )
    assert event.payload == {"verified_events": events_before, "intact": True}
    assert event.actor_label == "system"
