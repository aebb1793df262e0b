"""Members and roles: an API key's principal never becomes an admin."""

import pytest

from audits.errors import ServiceError
from audits.models import Membership
from audits.services.api_keys import api_key_create
from audits.services.organizations import member_remove, member_role_set


def test_an_api_keys_principal_cannot_be_made_an_admin(lab, lab_admin):
    api_key, _ = api_key_create(organization=lab, acting_user=lab_admin, name="ci")
    with pytest.raises(ServiceError, match="is an API key, not a person"):
        member_role_set(
            organization=lab, acting_user=lab_admin, user_id=api_key.principal_id, role="admin"
        )
    assert Membership.objects.get(user=api_key.principal).role == "member"
    with pytest.raises(ServiceError, match="API keys page"):
        member_remove(organization=lab, acting_user=lab_admin, user_id=api_key.principal_id)


def test_the_escalation_through_the_portal_is_refused_and_the_key_cannot_mint_keys(lab, lab_admin):
    from rest_framework.test import APIClient

    from tests.web.conftest import client_for

    api_key, plaintext = api_key_create(
        organization=lab, acting_user=lab_admin, name="ci", scope="read_write"
    )
    client_for(lab_admin).post(
        f"/organization/members/{api_key.principal_id}/role/", {"role": "admin"}
    )
    assert Membership.objects.get(user=api_key.principal).role == "member"
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    minted = machine.post("/api/v1/api-keys/", {"name": "mine", "scope": "read"}, format="json")
    assert minted.status_code == 403
