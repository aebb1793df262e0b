import pytest
from django.test import Client

from audits.services import submissions as lifecycle
from tests.conftest import make_draft
from tests.signing_in import sign_in


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.fixture
def under_review(lab_member, reviewer):
    submission = make_draft(lab_member, "Atlas", "9")
    submission = lifecycle.submission_submit(
        submission=submission, acting_user=lab_member, accuracy_declared=True
    )
    return lifecycle.submission_start_review(submission=submission, acting_user=reviewer)
