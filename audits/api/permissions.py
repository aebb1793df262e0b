"""Who may call the API at all. What they may do to which object is the services' call."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from audits.models import OrganizationAPIKey
from audits.roles import membership_of


class IsOrganizationMember(BasePermission):
    """Signed in (session or key) and a member of an organization."""

    message = "You are not a member of any organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return membership_of(request.user) is not None


class KeyScopeAllows(BasePermission):
    """A read-only key may read; writing needs a read_write key."""

    message = "This API key is read-only; ask a lab admin for a read_write key to make changes."

    def has_permission(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, OrganizationAPIKey):
            return True
        return request.method in SAFE_METHODS or api_key.can_write
