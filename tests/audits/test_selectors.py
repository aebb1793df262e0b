import pytest

from audits import selectors
from audits.models import Submission
from audits.services.submissions import submission_create, submission_submit
from tests.conftest import make_draft


@pytest.fixture
def filings(draft, lab_member, other_lab_member):
    submitted = submission_submit(
        submission=make_draft(lab_member, "Atlas", "3"),
        acting_user=lab_member,
        accuracy_declared=True,
    )
    other_draft = submission_create(
        acting_user=other_lab_member, model_name="Orion", model_version="1"
    )
    other_submitted = submission_submit(
        submission=make_draft(other_lab_member, "Orion", "2"),
        acting_user=other_lab_member,
        accuracy_declared=True,
    )
    return {
        "draft": draft,
        "submitted": submitted,
        "other_draft": other_draft,
        "other_submitted": other_submitted,
    }


def test_a_lab_sees_only_its_own_filings(filings, lab_member, lab_admin):
    for user in (lab_member, lab_admin):
        visible = set(selectors.submissions_visible_to(user))
        assert visible == {filings["draft"], filings["submitted"]}


def test_a_regulator_sees_every_filing_but_drafts(filings, reviewer, regulator_admin):
    for user in (reviewer, regulator_admin):
        visible = set(selectors.submissions_visible_to(user))
        assert visible == {filings["submitted"], filings["other_submitted"]}


def test_lookups_of_invisible_filings_look_like_missing_ones(filings, lab_member, reviewer):
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_get(user=lab_member, reference=filings["other_submitted"].reference)
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_get(user=reviewer, reference=filings["draft"].reference)


def test_users_without_organization_see_nothing(filings, django_user_model):
    loner = django_user_model.objects.create_user(username="loner", password="x")
    assert not selectors.submissions_visible_to(loner).exists()
