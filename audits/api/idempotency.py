"""`Idempotency-Key` on POSTs: a retried request gets the first answer and changes nothing.

The record is inserted before the view runs, in its own transaction, so the unique
(user, key) constraint lets exactly one of several concurrent duplicates through; the
others see it in progress (409) or, once it is done, get its response replayed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from audits.api.errors import Conflict, Unprocessable
from audits.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# How long a key is remembered, and after how long an unfinished request counts as lost.
KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
State = IdempotencyRecord.State


@dataclass
class Replay(Exception):
    """Raised to answer with the stored response instead of running the view."""

    response: Response


def request_fingerprint(request: Request) -> str:
    """A hash of what the request asks: method, path and body (uploaded files by content)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.content_type.startswith("multipart/"):
        fields = {key: request.POST.getlist(key) for key in sorted(request.POST)}
        files = {
            key: [[upload.name, _file_sha256(upload)] for upload in request.FILES.getlist(key)]
            for key in sorted(request.FILES)
        }
        body = json.dumps({"fields": fields, "files": files}, sort_keys=True).encode()
    else:
        body = request.body
        with contextlib.suppress(ValueError):  # not JSON: hashed as sent
            body = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    digest.update(body)
    return digest.hexdigest()


def _file_sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def idempotency_begin(request: Request) -> IdempotencyRecord | None:
    """The record this request owns, None without a key; raises Replay, Conflict or 422."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    user: Any = request.user  # authenticated: ApiView checks before calling
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"An {HEADER} is 1 to {MAX_KEY_LENGTH} characters.")
    fingerprint = request_fingerprint(request)
    while True:
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=request.method or "",
                    path=request.path[:500],
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # the earlier request failed and let go of the key: try again
        age = timezone.now() - existing.created_at
        if age > KEY_LIFETIME or (existing.state == State.IN_PROGRESS and age > ABANDONED_AFTER):
            existing.delete()
            continue
        if existing.fingerprint != fingerprint:
            raise Unprocessable(
                f"This {HEADER} was already used for a different request "
                f"({existing.method} {existing.path} with another body); "
                "use a new key for a new request.",
                code="idempotency_key_reused",
            )
        if existing.state == State.IN_PROGRESS:
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry in a moment.",
                code="idempotency_in_progress",
            )
        response = Response(existing.response_body, status=existing.response_status)
        response["Idempotent-Replayed"] = "true"
        raise Replay(response)


def idempotency_finish(
    record: IdempotencyRecord, response: Response, *, redact: tuple[str, ...] = ()
) -> None:
    """Keep the response for replays; a server error frees the key for a retry.

    `redact` names top-level fields never stored (a new API key's plaintext).
    """
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    record.state = State.DONE
    record.response_status = response.status_code
    body = getattr(response, "data", None)
    if isinstance(body, dict) and redact:
        body = {name: value for name, value in body.items() if name not in redact}
    record.response_body = body
    record.save(update_fields=["state", "response_status", "response_body"])
