"""API clients for the cast: session clients for people, key clients for machines."""

import pytest
from rest_framework.test import APIClient

from audits.models import OrganizationAPIKey
from audits.services.api_keys import api_key_create
from tests.signing_in import sign_in


def key_client(organization, scope=OrganizationAPIKey.Scope.READ_WRITE, name="pipeline"):
    """An APIClient sending a fresh key of `organization`; the row is `client.api_key`."""
    api_key, plaintext = api_key_create(
        organization=organization, acting_user=None, name=name, scope=scope
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    client.api_key = api_key
    client.plaintext = plaintext
    return client


def session_client(user):
    client = APIClient()
    client.force_authenticate(user=None)
    sign_in(client, user)
    return client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def lab_key(lab):
    return key_client(lab)


@pytest.fixture
def lab_read_key(lab):
    return key_client(lab, OrganizationAPIKey.Scope.READ, name="dashboard")


@pytest.fixture
def other_lab_key(other_lab):
    return key_client(other_lab, name="other pipeline")


@pytest.fixture
def as_user():
    return session_client


@pytest.fixture
def filing_document():
    return {
        "filing_schema": "govportal/filing/1",
        "model": {"name": "Atlas", "version": "2.1", "developer": "Example Lab"},
        "training": {"objectives": ["self_supervised", "rlhf"], "rl_horizon_steps": 0},
        "diagnostics": [{"metric": "situational_awareness.sad_score", "value": 0.41}],
    }
