"""Organization API keys: created by a lab admin (or the operator), shown once, revoked.

Each key acts through its own principal: an inactive user (no password, cannot sign in)
with a plain membership of the key's organization. Services then check the key's role
exactly as they check a person's, and the audit log names the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audits.errors import ServiceError
from audits.models import Membership, Organization, OrganizationAPIKey
from audits.roles import ensure, may_manage_api_keys
from audits.services.audit_log import audit_event_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Scope = OrganizationAPIKey.Scope
PRINCIPAL_PREFIX = "api-key-"


def _ensure_key_manager(acting_user: User | None, organization: Organization) -> None:
    # None is the operator at the command line; a superuser works through the admin.
    if acting_user is None or acting_user.is_superuser:
        return
    ensure(
        may_manage_api_keys(acting_user, organization),
        f"Only an admin of {organization.name} manages its API keys, in person.",
    )


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    acting_user: User | None,
    name: str,
    scope: str = Scope.READ,
    expires_at: datetime | None = None,
) -> tuple[OrganizationAPIKey, str]:
    """A new key of `organization`; returns the row and the key, which is never shown again."""
    _ensure_key_manager(acting_user, organization)
    name = name.strip()
    if not name:
        raise ServiceError(
            "An API key needs a name saying what uses it.", details={"field": "name"}
        )
    if len(name) > 50:
        raise ServiceError(
            "An API key's name has at most 50 characters.", details={"field": "name"}
        )
    if scope not in Scope.values:
        raise ServiceError(
            f"The scope is one of {', '.join(Scope.values)}, not {scope!r}.",
            details={"field": "scope"},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("The expiry must be in the future.", details={"field": "expires_at"})
    api_key = OrganizationAPIKey(
        organization=organization,
        name=name,
        scope=scope,
        expiry_date=expires_at,
        created_by=acting_user if acting_user is not None else None,
    )
    plaintext = OrganizationAPIKey.objects.assign_key(api_key)
    principal = get_user_model().objects.create_user(
        username=f"{PRINCIPAL_PREFIX}{api_key.prefix}",
        email="",
        password=None,
        first_name=name[:150],
        is_active=False,
    )
    Membership.objects.create(
        user=principal, organization=organization, role=Membership.Role.MEMBER
    )
    api_key.principal = principal
    api_key.save(force_insert=True)
    audit_event_record(
        actor=acting_user,
        action="api_key.create",
        object_type="api_key",
        object_id=api_key.prefix,
        organization=organization,
        payload={
            "name": name,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return api_key, plaintext


@transaction.atomic
def api_key_revoke(*, api_key: OrganizationAPIKey, acting_user: User | None) -> OrganizationAPIKey:
    """Revoke a key for good (the library refuses to un-revoke). Revoking twice is a no-op."""
    api_key = (
        OrganizationAPIKey.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=api_key.pk)
    )
    _ensure_key_manager(acting_user, api_key.organization)
    if api_key.revoked:
        return api_key
    api_key.revoked = True
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked", "revoked_at"])
    audit_event_record(
        actor=acting_user,
        action="api_key.revoke",
        object_type="api_key",
        object_id=api_key.prefix,
        organization=api_key.organization,
        payload={"name": api_key.name},
    )
    return api_key
