"""Organizations, their members and roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from audits.errors import ServiceError
from audits.models import Membership, Organization
from audits.roles import ensure, is_api_key_principal, may_manage_members
from audits.services.audit_log import audit_event_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def organization_create(*, name: str, kind: str, acting_user: User | None = None) -> Organization:
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
    acting_user: User | None = None,
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


def _ensure_organization_admin(acting_user: User, organization: Organization) -> None:
    """An admin of this very organization (a lab admin for a lab, a regulator admin for one)."""
    ensure(
        may_manage_members(acting_user, organization),
        f"Only an admin of {organization.name} may manage its members.",
    )


def _member_of(organization: Organization, user_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "organization")
        .filter(organization=organization, user_id=user_id)
        .first()
    )
    if membership is None:
        raise ServiceError(f"That person is not a member of {organization.name}.")
    if is_api_key_principal(membership.user):
        # A key's principal keeps the plain role its scope implies: never an admin.
        raise ServiceError(
            f"{membership.user.get_username()} is an API key, not a person; manage it on the "
            "API keys page (revoke it, or create another with the scope you need)."
        )
    return membership


def _keep_one_admin(organization: Organization, leaving: Membership) -> None:
    others = (
        Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN)
        .exclude(pk=leaving.pk)
        .filter(user__is_active=True)
    )
    if leaving.is_admin and not others.exists():
        raise ServiceError(
            f"{leaving.user.get_username()} is the last admin of {organization.name}; "
            "make someone else an admin first."
        )


@transaction.atomic
def member_invite(
    *,
    organization: Organization,
    acting_user: User,
    username: str,
    email: str,
    role: str = Membership.Role.MEMBER,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """An admin adds a person to their organization; they choose a password by reset link.

    The new account has no usable password until its owner follows the emailed link.
    """
    _ensure_organization_admin(acting_user, organization)
    username, email = username.strip(), email.strip()
    if role not in Membership.Role.values:
        raise ServiceError(
            f"Unknown role {role!r}; choose one of {', '.join(Membership.Role.values)}.",
            details={"field": "role"},
        )
    if not username or not email:
        raise ServiceError("A new member needs a username and an email address.")
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise ServiceError(
            f"The username {username!r} is taken; choose another.", details={"field": "username"}
        )
    return member_add(
        organization=organization,
        username=username,
        email=email,
        password=None,
        role=role,
        acting_user=acting_user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )


@transaction.atomic
def member_role_set(
    *, organization: Organization, acting_user: User, user_id: int, role: str
) -> Membership:
    """Make a member an admin or an admin a member; an organization always keeps one admin."""
    _ensure_organization_admin(acting_user, organization)
    if role not in Membership.Role.values:
        raise ServiceError(
            f"Unknown role {role!r}; choose one of {', '.join(Membership.Role.values)}.",
            details={"field": "role"},
        )
    membership = _member_of(organization, user_id)
    if membership.role == role:
        return membership
    if role != Membership.Role.ADMIN:
        _keep_one_admin(organization, membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_event_record(
        actor=acting_user,
        action="membership.role_set",
        object_type="user",
        object_id=membership.user.get_username(),
        organization=organization,
        payload={"from": previous, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, organization: Organization, acting_user: User, user_id: int) -> None:
    """Remove a person from the organization: the account is deactivated, its history kept.

    The user row stays because filings, reviews and audit events name their author.
    """
    _ensure_organization_admin(acting_user, organization)
    membership = _member_of(organization, user_id)
    if membership.user_id == acting_user.pk:
        raise ServiceError("You cannot remove yourself; ask another admin.")
    _keep_one_admin(organization, membership)
    user = membership.user
    username = user.get_username()
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    membership.delete()
    audit_event_record(
        actor=acting_user,
        action="membership.remove",
        object_type="user",
        object_id=username,
        organization=organization,
        payload={"role": membership.role},
    )
