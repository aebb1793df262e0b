"""Everyone: sign in and out, password change and reset, who am I, error pages; admins' pages."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audits.models import AuditEvent, Membership, OrganizationAPIKey
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def test_signing_in_lands_on_the_roles_home(client, lab_member, reviewer):
    response = client.post(
        reverse("login"), {"username": "lab-member", "password": "pw-for-tests-123"}
    )
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("filings")
    assert client_for(reviewer).get(reverse("home"))["Location"] == reverse("queue")


def test_a_wrong_password_is_said_plainly(client, lab_member):
    response = client.post(reverse("login"), {"username": "lab-member", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_every_page_names_the_organization_and_role(lab_admin, regulator_admin):
    html = client_for(lab_admin).get(reverse("filings")).content.decode()
    assert "Example Lab" in html and "lab admin" in html
    html = client_for(regulator_admin).get(reverse("queue")).content.decode()
    assert "Authority" in html and "regulator admin" in html


def test_sign_out(lab_member):
    client = client_for(lab_member)
    client.post(reverse("logout"))
    assert client.get(reverse("filings"))["Location"].startswith(reverse("login"))


def test_password_change(lab_member):
    client = client_for(lab_member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-for-tests-123",
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    lab_member.refresh_from_db()
    assert lab_member.check_password("a-much-longer-passphrase-42")


def test_password_reset_sends_a_link(client, lab_member, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": lab_member.email})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/" in mailoutbox[0].body


def test_friendly_404_and_403(lab_member):
    client = client_for(lab_member)
    response = client.get("/submissions/TA-2000-000001/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    response = client.get(reverse("queue"))
    assert response.status_code == 403
    assert "Your role does not allow this" in response.content.decode()


def test_the_500_page_renders_without_a_request_context(rf):
    from audits.web.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_an_admin_invites_a_member_who_sets_a_password(lab_admin, mailoutbox):
    client = client_for(lab_admin)
    response = client.post(
        reverse("members"),
        {"username": "newcomer", "email": "newcomer@example.org", "role": "member"},
    )
    assert response.status_code == 302
    newcomer = get_user_model().objects.get(username="newcomer")
    assert newcomer.membership.organization.name == "Example Lab"
    assert not newcomer.has_usable_password()
    assert "newcomer" in mailoutbox[0].body and "/accounts/password/reset/" in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="membership.create", object_id="newcomer").exists()


def test_a_taken_username_is_a_form_error(lab_admin, lab_member):
    response = client_for(lab_admin).post(
        reverse("members"), {"username": "lab-member", "email": "x@example.org", "role": "member"}
    )
    assert response.status_code == 400
    assert "is taken" in response.content.decode()


def test_roles_change_and_the_last_admin_stays(lab_admin, lab_member):
    client = client_for(lab_admin)
    client.post(reverse("member-role", args=[lab_member.pk]), {"role": "admin"})
    assert Membership.objects.get(user=lab_member).role == "admin"
    client.post(reverse("member-role", args=[lab_member.pk]), {"role": "member"})
    response = client.post(reverse("member-role", args=[lab_admin.pk]), {"role": "member"})
    assert "last admin" in client.get(response["Location"]).content.decode()
    assert Membership.objects.get(user=lab_admin).role == "admin"


def test_removing_a_member_deactivates_them(lab_admin, lab_member):
    client_for(lab_admin).post(reverse("member-remove", args=[lab_member.pk]))
    lab_member.refresh_from_db()
    assert not lab_member.is_active
    assert not Membership.objects.filter(user=lab_member).exists()
    assert AuditEvent.objects.filter(action="membership.remove").exists()


def test_an_admin_cannot_touch_another_organizations_member(lab_admin, other_lab_member):
    client_for(lab_admin).post(reverse("member-remove", args=[other_lab_member.pk]))
    other_lab_member.refresh_from_db()
    assert other_lab_member.is_active


def test_an_api_key_is_shown_once_and_can_be_revoked(lab_admin):
    client = client_for(lab_admin)
    response = client.post(reverse("api-keys"), {"name": "CI pipeline", "scope": "read_write"})
    key = OrganizationAPIKey.objects.get(name="CI pipeline")
    html = response.content.decode()
    assert "never shown again" in html and key.prefix in html
    assert "never shown again" not in client.get(reverse("api-keys")).content.decode()
    # The key's principal is not listed among the people.
    assert key.principal.username not in client.get(reverse("members")).content.decode()
    client.post(reverse("api-key-revoke", args=[key.prefix]))
    key.refresh_from_db()
    assert key.revoked
