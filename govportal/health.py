"""Probes for load balancers and orchestrators.

`/healthz`: the process is up and answering (no dependency is touched, so a database
outage does not get every web process restarted). `/readyz`: this process can do its
work: the database answers, the broker accepts connections (when one is configured) and
the file storage answers; 503 naming what failed otherwise. The bodies never carry a URL,
a host name or an error message, which could hold credentials: only the check's name, its
outcome and the type of error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# A name no stored file can have (blobs live under blobs/), asked for to reach the storage.
STORAGE_PROBE_NAME = "readyz-probe"


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "in-process"  # the embedded mode runs its work itself
    from govportal.celery import app

    with app.connection_for_write() as broker:
        timeout = settings.GOVPORTAL_READINESS_TIMEOUT_SECONDS
        broker.ensure_connection(max_retries=1, timeout=timeout)
    return "ok"


def _storage() -> str:
    default_storage.exists(STORAGE_PROBE_NAME)
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            outcome = {"ok": True, "detail": check()}
        except Exception as error:
            logger.warning("readiness check %s failed", name, exc_info=True)
            outcome = {"ok": False, "error": type(error).__name__}
        outcome["seconds"] = round(time.monotonic() - started, 3)
        checks[name] = outcome
    failed = sorted(name for name, outcome in checks.items() if not outcome["ok"])
    body = {"status": "not ready" if failed else "ready", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)
