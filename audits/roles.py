"""Who the acting user is in the domain: organization and role, and checks on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audits.errors import NotPermitted
from audits.models import Membership, Organization, Submission

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def membership_of(user: AnyUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        return user.membership  # type: ignore[attr-defined]
    except Membership.DoesNotExist:
        return None


def require_membership(user: AnyUser) -> Membership:
    membership = membership_of(user)
    if membership is None:
        raise NotPermitted("You are not a member of any organization.")
    return membership


def require_lab_member(user: AnyUser, organization: Organization) -> Membership:
    """Any member (or admin) of this very lab."""
    membership = require_membership(user)
    if membership.organization_id != organization.pk or not organization.is_lab:
        raise NotPermitted(f"Only members of {organization.name} may do this.")
    return membership


def require_lab_admin(user: AnyUser, organization: Organization) -> Membership:
    membership = require_lab_member(user, organization)
    if not membership.is_admin:
        raise NotPermitted(f"Only an admin of {organization.name} may do this.")
    return membership


def require_regulator(user: AnyUser) -> Membership:
    """A regulator reviewer or regulator admin."""
    membership = require_membership(user)
    if not membership.organization.is_regulator:
        raise NotPermitted("Only regulators may do this.")
    return membership


def require_assigned_reviewer(user: AnyUser, submission: Submission, *, to: str) -> Membership:
    """The reviewer a submission is assigned to, or any regulator admin."""
    membership = require_regulator(user)
    if membership.is_admin or submission.assigned_to_id == user.pk:
        return membership
    raise NotPermitted(
        f"Only the reviewer assigned to {submission.reference} or a regulator admin may {to}."
    )


def require_regulator_admin(user: AnyUser) -> Membership:
    membership = require_regulator(user)
    if not membership.is_admin:
        raise NotPermitted("Only a regulator admin may do this.")
    return membership
