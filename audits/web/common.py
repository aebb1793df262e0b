"""What every portal view shares: sign-in, 404 for what a user may not see, error shapes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from audits.errors import ServiceError
from audits.intake.types import IntakeError, IntakeErrors

if TYPE_CHECKING:
    from django.contrib.auth.models import User

View = Callable[..., HttpResponseBase]


class AuthenticatedRequest(HttpRequest):
    """A request past `portal_view`'s sign-in check: its user is a signed-in person."""

    user: User


def portal_view(view: View) -> View:
    """Signed-in only; a row the user may not see is a 404, like a row that does not exist.

    NotPermitted (a PermissionDenied) propagates to the 403 handler with its message.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except ObjectDoesNotExist:
            raise Http404("There is nothing here, or it is not yours to see.") from None
        except ServiceError as error:
            # A request the domain refuses in the filing's current state (409 Conflict).
            return render(request, "409.html", {"reason": error.message}, status=409)

    return login_required(wrapper)


def intake_errors(error: IntakeError) -> list[dict[str, Any]]:
    """Every error an intake failure carries, each with its file, line and field."""
    errors = error.errors if isinstance(error, IntakeErrors) else [error]
    return [
        {
            "message": item.message,
            "file": item.location.file,
            "line": item.location.line,
            "field": item.location.field,
        }
        for item in errors
    ]


def service_error(error: ServiceError) -> list[dict[str, Any]]:
    return [
        {
            "message": error.message,
            "file": error.details.get("file"),
            "line": None,
            "field": error.details.get("field"),
        }
    ]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def act_and_redirect(
    request: HttpRequest, action: Callable[[], str], to: str, **to_kwargs: Any
) -> HttpResponse:
    """Run a service call from a POST: its success text or its refusal becomes the message
    shown on the page the browser is sent back to (post/redirect/get)."""
    try:
        done = action()
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(to, **to_kwargs)
