"""One error shape for every API failure, and nothing a client should not see.

    {"error": {"code": "...", "message": "...", "field": "...", "file": "...", "line": 3,
               "details": {...}}}

`code` is stable for programs, `message` is for people; `field`, `file` and `line` say
where the problem is when there is a where.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.intake.types import IntakeError, IntakeErrors

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request is larger than the API accepts."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with another one in progress."


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = "The request cannot be processed."


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    file: str | None = None,
    line: int | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    for name, value in (("field", field), ("file", file), ("line", line), ("details", details)):
        if value not in (None, "", {}):
            error[name] = value
    return {"error": error}


def _first_message(detail: Any, path: str = "") -> tuple[str | None, str]:
    """The first (field path, message) of a DRF validation error's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_message(value, name)
    if isinstance(detail, list) and detail:
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                return _first_message(value, f"{path}[{index}]")
            return (path or None), str(value)
    return (path or None), str(detail)


def _validation_body(error: exceptions.ValidationError) -> dict[str, Any]:
    field, message = _first_message(error.detail)
    text = f"{field}: {message}" if field else message
    details = error.detail if isinstance(error.detail, dict) else {"errors": error.detail}
    return error_body("invalid", text, field=field, details={"fields": details})


def _intake_body(error: IntakeError) -> dict[str, Any]:
    location = error.location
    details = None
    if isinstance(error, IntakeErrors):
        details = {"errors": [item.as_dict() for item in error.errors]}
    return error_body(
        "intake_error",
        error.message,
        field=location.field,
        file=location.file,
        line=location.line,
        details=details,
    )


def _api_exception_body(error: exceptions.APIException) -> dict[str, Any]:
    codes = error.get_codes()
    code = codes if isinstance(codes, str) else error.default_code
    code = {"not_authenticated": "not_authenticated"}.get(str(code), str(code))
    return error_body(code, str(error.detail))


def api_exception_handler(error: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception a view raises becomes the one error shape."""
    headers: dict[str, str] = {}
    code: int
    if isinstance(error, exceptions.ValidationError):
        code, body = status.HTTP_400_BAD_REQUEST, _validation_body(error)
    elif isinstance(error, IntakeError):
        code, body = status.HTTP_422_UNPROCESSABLE_ENTITY, _intake_body(error)
    elif isinstance(error, TransitionRefused):
        code = status.HTTP_409_CONFLICT
        body = error_body(error.code, error.message, details=error.details)
    elif isinstance(error, ServiceError):
        details = dict(error.details)
        field = details.pop("field", None)
        file = details.pop("file", None)
        code = status.HTTP_422_UNPROCESSABLE_ENTITY
        body = error_body(error.code, error.message, field=field, file=file, details=details)
    elif isinstance(error, NotPermitted):
        code, body = status.HTTP_403_FORBIDDEN, error_body("permission_denied", error.message)
    elif isinstance(error, Http404 | ObjectDoesNotExist):
        # Another tenant's object and no object at all look the same.
        code, body = status.HTTP_404_NOT_FOUND, error_body("not_found", "Not found.")
    elif isinstance(error, PermissionDenied):
        code = status.HTTP_403_FORBIDDEN
        body = error_body("permission_denied", str(error) or "You may not do this.")
    elif isinstance(error, RequestDataTooBig):
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        body = error_body("payload_too_large", "The request body is larger than the API accepts.")
    elif isinstance(error, exceptions.APIException):
        code, body = error.status_code, _api_exception_body(error)
        if isinstance(error, exceptions.NotFound):
            body = error_body("not_found", str(error.detail))
        if getattr(error, "auth_header", None):
            headers["WWW-Authenticate"] = error.auth_header  # type: ignore[attr-defined]
        if getattr(error, "wait", None):
            headers["Retry-After"] = str(int(error.wait))  # type: ignore[attr-defined]
    elif isinstance(error, SuspiciousOperation):
        code, body = status.HTTP_400_BAD_REQUEST, error_body("bad_request", "Malformed request.")
    else:
        logger.exception("unhandled error in the API", exc_info=error)
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = error_body("server_error", "Something went wrong on our side; it was logged.")
    set_rollback()
    return Response(body, status=code, headers=headers)


@csrf_exempt  # nothing to protect; a CSRF refusal would answer an HTML 403 instead
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path that is not a route: the JSON 404 instead of Django's HTML page."""
    return JsonResponse(error_body("not_found", f"No API route {request.path}."), status=404)
