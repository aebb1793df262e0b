"""The transactional outbox: work recorded with its change, handed over after the commit."""

import threading
import time
from datetime import timedelta

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from audits.models import OutboxMessage
from audits.services import outbox
from audits.services.outbox import outbox_enqueue, outbox_pending, outbox_relay
from govportal.celery import app

RAN: list[dict] = []
DONE = threading.Event()


@shared_task(name="tests.outbox_record")
def record_task(**kwargs):
    RAN.append(kwargs)
    DONE.set()


@shared_task(name="tests.outbox_fail")
def failing_task(**kwargs):
    raise RuntimeError("the work itself failed")


@pytest.fixture(autouse=True)
def clean_record(tasks_in_process):
    # In-process unless a test asks for the broker (broker_mode), whatever CI configures.
    RAN.clear()
    DONE.clear()


@pytest.fixture
def broker_mode(monkeypatch):
    """The process believes a broker is configured; `sent` collects what it was handed."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    sent: list[tuple[str, dict, str]] = []

    def send_task(name, kwargs=None, task_id=None, **options):
        if getattr(send_task, "down", False):
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        sent.append((name, kwargs, task_id))

    monkeypatch.setattr(app, "send_task", send_task)
    yield send_task, sent
    app.conf.task_always_eager = eager


def test_enqueue_refuses_to_run_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(task="tests.outbox_record")


def test_work_runs_only_after_its_change_commits(
    db, django_capture_on_commit_callbacks, tasks_in_process
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_record", kwargs={"n": 1})
        assert RAN == []
    assert len(callbacks) == 1
    assert RAN == [{"n": 1}]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.attempts == 1
    assert outbox_pending() == 0


def test_rolled_back_change_leaves_no_work(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValueError),
        transaction.atomic(),
    ):
        outbox_enqueue(task="tests.outbox_record", kwargs={"n": 1})
        raise ValueError("the change is refused")
    assert RAN == []
    assert OutboxMessage.objects.count() == 0


def test_failing_work_is_done_with_and_not_repeated(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_fail")
    message.refresh_from_db()
    assert message.sent_at is not None
    assert outbox_relay() == 0


def test_broker_outage_keeps_the_message_and_a_sweep_hands_it_over_later(
    db, django_capture_on_commit_callbacks, broker_mode
):
    send_task, sent = broker_mode
    send_task.down = True
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_record", kwargs={"n": 2})
    message.refresh_from_db()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "Connection refused" in message.last_error
    assert message.available_at > timezone.now()  # backing off
    assert sent == []

    # Not due yet: a sweep leaves it alone.
    assert outbox_relay() == 0
    send_task.down = False
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox_relay() == 1
    assert sent == [("tests.outbox_record", {"n": 2}, f"outbox-{message.pk}")]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.last_error == ""
    assert outbox_relay() == 0  # handed over once


def test_backoff_grows_with_each_failed_attempt(db, broker_mode):
    send_task, _ = broker_mode
    send_task.down = True
    with transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_record")
    delays = []
    for _ in range(3):
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        before = timezone.now()
        outbox_relay(message_ids=[message.pk])
        message.refresh_from_db()
        delays.append((message.available_at - before).total_seconds())
    assert delays[0] < delays[1] < delays[2]
    assert message.attempts == 3


def test_a_claim_whose_process_died_is_taken_again_after_its_lease(db, tasks_in_process):
    with transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_record", kwargs={"n": 3})
    claimed = outbox._claim(message.pk)  # a process claims it, then dies
    assert claimed is not None
    assert outbox_relay() == 0  # still leased
    OutboxMessage.objects.filter(pk=message.pk).update(
        available_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_relay() == 1
    assert RAN == [{"n": 3}]


RESPONSE_SENT = threading.Event()


@shared_task(name="tests.outbox_after_response")
def after_response_task(**kwargs):
    # Work that cannot finish before the request that made it has answered.
    RAN.append({"response_sent_first": RESPONSE_SENT.wait(timeout=10), **kwargs})
    DONE.set()


@pytest.fixture
def embedded_runner(settings, tasks_in_process):
    settings.GOVPORTAL_TASKS_IN_PROCESS = "thread"
    RESPONSE_SENT.clear()
    outbox.outbox_runner_start()
    yield
    outbox.outbox_runner_stop()


@pytest.mark.django_db(transaction=True)
def test_embedded_thread_runs_work_after_the_commit_without_blocking_it(embedded_runner):
    with transaction.atomic():
        message = outbox_enqueue(task="tests.outbox_after_response", kwargs={"n": 4})
    # The commit has returned while the work is still waiting on it: nothing ran inline.
    assert RAN == []
    RESPONSE_SENT.set()
    assert DONE.wait(timeout=10), "the in-process runner did not run the work"
    assert RAN == [{"response_sent_first": True, "n": 4}]
    for _ in range(100):
        message.refresh_from_db()
        if message.sent_at is not None:
            break
        time.sleep(0.05)
    assert message.sent_at is not None


def test_submit_during_a_broker_outage_answers_success_and_its_retry_replays(
    db, django_capture_on_commit_callbacks, broker_mode, lab, lab_member
):
    from tests.api.conftest import key_client
    from tests.conftest import make_draft

    send_task, _ = broker_mode
    send_task.down = True
    draft = make_draft(lab_member)
    client = key_client(lab)
    url = f"/api/v1/submissions/{draft.reference}/submit/"
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            url, {"accuracy_declaration": True}, format="json", HTTP_IDEMPOTENCY_KEY="submit-once"
        )
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "submitted"
    waiting = OutboxMessage.objects.get(task="audits.report_render")
    assert waiting.sent_at is None and waiting.last_error

    retry = client.post(
        url, {"accuracy_declaration": True}, format="json", HTTP_IDEMPOTENCY_KEY="submit-once"
    )
    assert retry.status_code == 200
    assert retry.json() == first.json()
