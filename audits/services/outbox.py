"""The transactional outbox: background work that cannot be lost once its change commits.

A service that calls for background work (render a report, send a notification) writes an
`OutboxMessage` in its own transaction with `outbox_enqueue`. Once that transaction
commits, `outbox_relay` hands the message over: to Celery through the broker, or, in the
embedded mode without a broker, to the web process's background thread (a command or a
shell, which has none, runs it inline, right after the commit). A message that cannot be handed
over (the broker is down) stays unsent with its error and is retried with backoff by the
periodic sweep (`audits.outbox_sweep`, `manage.py outbox_relay`), so a committed change
always gets its work done once the broker is back. Tasks are idempotent: a message handed
over twice (a relay and a sweep racing) does the work once.

A message is claimed before it is handed over by pushing its `available_at` a lease into
the future: whoever claims it owns it until then, and a message whose in-process run died
with its process is picked up again by a sweep after the lease.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from audits.models import OutboxMessage
from govportal.observability import task_headers

logger = logging.getLogger(__name__)

RELAY_BATCH = 200
# How long a claimed message belongs to its claimer: above the longest task's time limit.
CLAIM_LEASE = timedelta(minutes=10)
MAX_BACKOFF_SECONDS = 300


def outbox_enqueue(
    *, task: str, kwargs: dict[str, Any] | None = None, headers: dict[str, Any] | None = None
) -> OutboxMessage:
    """Record `task(**kwargs)` to run once the caller's transaction commits.

    Must run inside the transaction of the change that calls for the work, like an audit
    event: if the change rolls back, so does the work.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox messages are written inside the transaction of their change")
    # The request id travels with the work, so the task's log lines name the request.
    headers = {**task_headers(), **(headers or {})}
    message = OutboxMessage.objects.create(
        task=task, kwargs=kwargs or {}, headers=headers, available_at=timezone.now()
    )
    # robust: a failure to hand over must never turn a committed change into an error.
    transaction.on_commit(partial(outbox_relay, message_ids=[message.pk]), robust=True)
    return message


def outbox_relay(*, message_ids: Sequence[int] | None = None, limit: int = RELAY_BATCH) -> int:
    """Hand over due unsent messages (all of them, or those of `message_ids`); the count."""
    due = OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lte=timezone.now())
    if message_ids is not None:
        due = due.filter(pk__in=list(message_ids))
    handed = 0
    for message_id in list(due.order_by("id").values_list("pk", flat=True)[:limit]):
        message = _claim(message_id)
        if message is not None and _hand_over(message):
            handed += 1
    return handed


def outbox_pending() -> int:
    """How many messages wait to be handed over (for health checks and metrics)."""
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def _claim(message_id: int) -> OutboxMessage | None:
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True, available_at__lte=now)
            .first()
        )
        if message is None:
            return None  # sent, or claimed by another relay meanwhile
        message.attempts += 1
        message.available_at = now + CLAIM_LEASE
        message.save(update_fields=["attempts", "available_at"])
    return message


def _hand_over(message: OutboxMessage) -> bool:
    from govportal.celery import app

    if not app.conf.task_always_eager:
        try:
            app.send_task(
                message.task,
                kwargs=message.kwargs,
                task_id=f"outbox-{message.pk}",
                headers=message.headers,
                retry=False,
            )
        except Exception as error:  # the broker is unreachable, or refused the message
            _failed(message, error)
            return False
        _sent(message)
        return True
    if _runner.started and settings.GOVPORTAL_TASKS_IN_PROCESS == "thread":
        _runner.submit(message)
    else:
        _run_in_process(message)
    return True


def _sent(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), last_error="")


def _failed(message: OutboxMessage, error: BaseException) -> None:
    backoff = min(2**message.attempts, MAX_BACKOFF_SECONDS)
    OutboxMessage.objects.filter(pk=message.pk).update(
        available_at=timezone.now() + timedelta(seconds=backoff),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )
    logger.warning(
        "outbox message %s (%s) not handed over, attempt %s; retrying in %s s: %s",
        message.pk,
        message.task,
        message.attempts,
        backoff,
        error,
    )


def _run_in_process(message: OutboxMessage) -> None:
    """Run the task here and now (its own retry policy applies); the message is then done.

    A task that fails has had its say (a report marks itself failed, say): the message is
    not run again.
    """
    from govportal.celery import app

    app.loader.import_default_modules()
    try:
        app.tasks[message.task].apply(
            kwargs=message.kwargs, task_id=f"outbox-{message.pk}", headers=message.headers
        )
    except Exception:
        logger.exception("in-process task %s of outbox message %s failed", message.task, message.pk)
    _sent(message)


class _InProcessRunner:
    """One background thread that runs claimed messages after the request that made them.

    The embedded mode's stand-in for a worker: no request waits on a report render. It also
    sweeps every `GOVPORTAL_OUTBOX_SWEEP_SECONDS`, which picks up messages a previous
    process claimed but never finished.
    """

    def __init__(self) -> None:
        self._messages: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="govportal-tasks", daemon=True
                )
                self._thread.start()

    def submit(self, message: OutboxMessage) -> None:
        self.start()
        self._messages.put(message)

    def stop(self) -> None:
        """Finish what is queued, then end the thread (for tests and orderly shutdowns)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._messages.put(None)
            thread.join(timeout=60)

    def _loop(self) -> None:
        while True:
            try:
                message = self._messages.get(timeout=settings.GOVPORTAL_OUTBOX_SWEEP_SECONDS)
            except queue.Empty:
                message = SWEEP
            if message is None:
                return
            # Nothing may end this thread but stop(): a database outage is logged and the
            # next sweep tries again.
            try:
                if message is SWEEP:
                    outbox_relay()  # hands due messages back to this queue
                else:
                    _run_in_process(message)
            except Exception:
                logger.exception("the in-process task runner hit an error; it carries on")
            try:
                close_old_connections()
            except Exception:
                logger.exception("the in-process task runner could not tidy its connections")


SWEEP = object()  # the runner's own cue to sweep
_runner = _InProcessRunner()


def outbox_runner_start() -> None:
    """Run in-process work on a background thread from now on (the embedded web process
    calls this at start-up; commands and shells without it run work inline)."""
    _runner.start()


def outbox_runner_stop() -> None:
    _runner.stop()
