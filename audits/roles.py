"""Who may do what: pure predicates over the acting user and the object, and one guard.

Every rule of the portal lives here once. Services guard their writes with
`ensure(may_x(user, ...), "why not")`; selectors scope their reads with the same predicates;
views and templates ask them for what to offer. A predicate never raises and never writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audits.errors import NotPermitted
from audits.models import Membership, Organization, Submission

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def membership_of(user: AnyUser | None) -> Membership | None:
    """The user's place in an organization; None for anonymous users and outsiders."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership  # type: ignore[attr-defined]
    except Membership.DoesNotExist:
        return None


def ensure(allowed: bool, refusal: str) -> None:
    """The guard: raise NotPermitted (a 403 with `refusal`) unless `allowed`."""
    if not allowed:
        raise NotPermitted(refusal)


def require_membership(user: AnyUser | None) -> Membership:
    """The acting user's membership; NotPermitted for someone in no organization."""
    membership = membership_of(user)
    ensure(membership is not None, "You are not a member of any organization.")
    assert membership is not None
    return membership


def is_api_key_principal(user: AnyUser | None) -> bool:
    """The user an organization API key acts through (not a person)."""
    return user is not None and hasattr(user, "api_key")


# --- who someone is ---------------------------------------------------------------------


def is_lab_staff(user: AnyUser | None) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.organization.is_lab


def is_regulator(user: AnyUser | None) -> bool:
    """A regulator reviewer or a regulator admin."""
    membership = membership_of(user)
    return membership is not None and membership.organization.is_regulator


def is_regulator_admin(user: AnyUser | None) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.organization.is_regulator and membership.is_admin


def is_member_of(user: AnyUser | None, organization: Organization) -> bool:
    """Any member (or admin) of this very organization."""
    membership = membership_of(user)
    return membership is not None and membership.organization_id == organization.pk


def is_admin_of(user: AnyUser | None, organization: Organization) -> bool:
    membership = membership_of(user)
    return is_member_of(user, organization) and membership is not None and membership.is_admin


def is_lab_member_of(user: AnyUser | None, organization: Organization) -> bool:
    """Any member (or admin) of this very lab."""
    return organization.is_lab and is_member_of(user, organization)


def is_lab_admin_of(user: AnyUser | None, organization: Organization) -> bool:
    return organization.is_lab and is_admin_of(user, organization)


# --- filings ----------------------------------------------------------------------------


def may_see_submission(user: AnyUser | None, submission: Submission) -> bool:
    """A lab sees its own filings; a regulator every filing that is not a draft."""
    if is_lab_member_of(user, submission.organization):
        return True
    return is_regulator(user) and submission.status != Submission.Status.DRAFT


def may_file(user: AnyUser | None) -> bool:
    """Lab staff open filings (people and read-write keys alike)."""
    return is_lab_staff(user)


def may_work_on_filing(user: AnyUser | None, submission: Submission) -> bool:
    """Upload, fill in, submit and answer change requests: the filing lab's members."""
    return is_lab_member_of(user, submission.organization)


def may_start_review(user: AnyUser | None) -> bool:
    return is_regulator(user)


def may_decide(user: AnyUser | None, submission: Submission) -> bool:
    """Decide, override and confirm overrides: the assigned reviewer or a regulator admin."""
    if is_regulator_admin(user):
        return True
    return (
        is_regulator(user)
        and user is not None
        and submission.assigned_to_id is not None
        and submission.assigned_to_id == user.pk
    )


def may_assign(user: AnyUser | None, submission: Submission, reviewer: AnyUser) -> bool:
    """A regulator admin assigns and reassigns anyone of their regulator; a reviewer may
    take an unassigned filing for themself, never one assigned to someone else."""
    acting, assigned = membership_of(user), membership_of(reviewer)
    if acting is None or assigned is None or not acting.organization.is_regulator:
        return False
    if assigned.organization_id != acting.organization_id:
        return False
    if acting.is_admin:
        return True
    return (
        user is not None and reviewer.pk == user.pk and submission.assigned_to_id in (None, user.pk)
    )


def may_comment(user: AnyUser | None, submission: Submission) -> bool:
    return may_see_submission(user, submission)


# --- organizations, keys, the method --------------------------------------------------


def may_manage_members(user: AnyUser | None, organization: Organization) -> bool:
    """An admin of this very organization (a lab admin for a lab, a regulator admin for one);
    never an API key, whatever its principal's row says."""
    return is_admin_of(user, organization) and not is_api_key_principal(user)


def may_manage_api_keys(user: AnyUser | None, organization: Organization) -> bool:
    """A lab admin in person: a key never mints keys."""
    return is_lab_admin_of(user, organization) and not is_api_key_principal(user)


def may_view_portfolio(user: AnyUser | None) -> bool:
    return is_regulator_admin(user)


def may_export_queue(user: AnyUser | None) -> bool:
    """Anyone who works the queue may take it away as a spreadsheet."""
    return is_regulator(user)


def may_publish_rubric(user: AnyUser | None) -> bool:
    return is_regulator_admin(user)


def may_manage_metric_aliases(user: AnyUser | None) -> bool:
    """Aliases decide which diagnostics are scored: regulator admins keep them."""
    return is_regulator_admin(user)


# --- webhooks and the audit trail ---------------------------------------------------------


def may_manage_webhooks(user: AnyUser | None, organization: Organization) -> bool:
    """A lab admin in person registers, changes and removes the lab's endpoints."""
    return is_lab_admin_of(user, organization) and not is_api_key_principal(user)


def may_read_webhooks(user: AnyUser | None, organization: Organization) -> bool:
    """The lab's members (and its keys) see its endpoints and their deliveries."""
    return is_lab_member_of(user, organization)


def may_read_audit_trail(user: AnyUser | None) -> bool:
    """Regulators read the whole trail; a lab admin in person their organization's part."""
    membership = membership_of(user)
    if membership is None:
        return False
    return is_regulator(user) or (
        is_lab_admin_of(user, membership.organization) and not is_api_key_principal(user)
    )
