"""Who is calling: an organization API key (machines) or the browser session (people)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from audits.models import OrganizationAPIKey

KEYWORD = "Api-Key"
# last_used_at is a hint for people deciding which keys to revoke, not a log: write it at
# most this often so that a busy pipeline does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>`; request.user is the key's principal."""

    key_parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[Any, OrganizationAPIKey] | None:
        key = self.key_parser.get(request)
        if key is None:
            return None
        api_key = self._usable(key)
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return api_key.principal, api_key

    def _usable(self, key: str) -> OrganizationAPIKey:
        prefix, _, _ = key.partition(".")
        api_key = (
            OrganizationAPIKey.objects.select_related(
                "organization", "principal__membership__organization"
            )
            .filter(prefix=prefix)
            .first()
        )
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(
                f"The API key {api_key.prefix} was revoked; ask a lab admin for a new one."
            )
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(
                f"The API key {api_key.prefix} expired on {api_key.expiry_date:%Y-%m-%d}; "
                "ask a lab admin for a new one."
            )
        return api_key

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate challenge turns "not signed in" into a 401 rather than a 403.
        return KEYWORD
