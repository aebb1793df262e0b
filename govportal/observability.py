"""What an operator watches: request ids that follow the work into tasks, Sentry, task metrics.

A request gets an id (the caller's `X-Request-ID` when it is a plausible one, else a new
one); every log line written while it runs carries it, the response returns it, and the
outbox copies it into the headers of the tasks the request enqueued, so the worker's log
lines of those tasks carry it too.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import sentry_sdk
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it cannot smuggle anything into a log line.
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_request_id: ContextVar[str | None] = ContextVar("govportal_request_id", default=None)


def request_id_current() -> str | None:
    """The id of the request (or of the request behind the task) being handled, if any."""
    return _request_id.get()


def task_headers() -> dict[str, str]:
    """Headers for background work enqueued now: the request id, so its logs follow."""
    request_id = _request_id.get()
    return {"request_id": request_id} if request_id else {}


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _PLAUSIBLE_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        sentry_sdk.set_tag("request_id", request_id)  # nothing happens without SENTRY_DSN
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record ("-" outside any request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


# --- tasks: the request id, durations and failures --------------------------------------------

_started: dict[str, float] = {}


def _task_request_id(task: Any) -> str | None:
    request = task.request
    found = getattr(request, "request_id", None)  # a worker puts custom headers here
    if not found:
        found = (getattr(request, "headers", None) or {}).get("request_id")  # eager runs
    return found if isinstance(found, str) and _PLAUSIBLE_ID.fullmatch(found) else None


def _task_prerun(task_id: str, task: Any, **_: Any) -> None:
    request_id = _task_request_id(task)
    _request_id.set(request_id)
    if request_id:
        sentry_sdk.set_tag("request_id", request_id)
    _started[task_id] = time.monotonic()


def _task_postrun(
    task_id: str, task: Any, state: str | None = None, retval: Any = None, **_: Any
) -> None:
    from govportal import metrics

    # A task run in-process whose error propagates ends without a state, its exception in
    # flight (Celery sends no task_failure then): it failed all the same.
    error = retval if isinstance(retval, BaseException) else sys.exc_info()[1]
    if state is None and error is not None:
        state = "FAILURE"
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(
            time.monotonic() - started
        )
    if state == "FAILURE":
        metrics.TASK_FAILURES.labels(task=task.name, error=type(error).__name__).inc()
    _request_id.set(None)


def _worker_ready(**_: Any) -> None:
    from django.conf import settings

    from govportal import metrics

    if settings.GOVPORTAL_WORKER_METRICS_PORT:
        metrics.worker_metrics_serve(settings.GOVPORTAL_WORKER_METRICS_PORT)


def celery_signals_connect() -> None:
    """Hook the request id and the task metrics into every task this process runs."""
    from celery import signals

    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
    signals.worker_ready.connect(_worker_ready, weak=False)


def sentry_init(*, dsn: str, environment: str, release: str | None) -> None:
    """Report unhandled errors of requests and tasks to Sentry (no personal data)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
