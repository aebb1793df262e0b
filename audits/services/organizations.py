"""Organizations, their members and roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from audits.models import Membership, Organization
from audits.services.audit_log import audit_event_record


@transaction.atomic
def organization_create(*, name: str, kind: str, acting_user: Any | None = None) -> Organization:
    organization = Organization.objects.create(name=name, kind=kind, slug=slugify(name)[:80])
    audit_event_record(
        actor=acting_user,
        action="organization.create",
        object_type="organization",
        object_id=organization.slug,
        organization=organization,
        payload={"name": name, "kind": kind},
    )
    return organization


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    username: str,
    email: str,
    password: str | None,
    role: str = Membership.Role.MEMBER,
    acting_user: Any | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create a user and their membership of `organization` with `role`."""
    user = get_user_model().objects.create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit_event_record(
        actor=acting_user,
        action="membership.create",
        object_type="user",
        object_id=username,
        organization=organization,
        payload={"role": role},
    )
    return membership
