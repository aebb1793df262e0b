"""Errors that services raise; views and the API turn them into responses."""

from typing import Any

from django.core.exceptions import PermissionDenied


class ServiceError(Exception):
    """A request the domain refuses; `code` is stable for API clients."""

    code = "invalid"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class TransitionRefused(ServiceError):
    code = "invalid_transition"


class NotPermitted(PermissionDenied):
    """The acting user's role does not allow this action on an object it may see."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
