"""Filed submissions and a newer rubric version, for the tests of re-scoring."""

from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from audits.models import Submission
from audits.rubric import RUBRICS_DIRECTORY
from audits.services.assessment import assessment_run
from audits.services.intake import model_card_attach
from audits.services.rubrics import rubric_by_reference, rubrics_load
from audits.services.submissions import submission_create
from tests.conftest import make_draft

DEMO = Path(__file__).resolve().parents[2] / "audits" / "fixtures" / "demo"
NEWER = "urn:govportal:rubric:mesa-optimization@1.2.0"


def filed(user, name, *, card: str | None = None, version: str = "1"):
    """A filed submission with its assessment, without the report a real submit renders."""
    if card is None:
        submission = make_draft(user, name, version)
    else:
        submission = submission_create(acting_user=user, model_name=name, model_version=version)
        model_card_attach(
            submission=submission,
            acting_user=user,
            file_name=card,
            content=(DEMO / card).read_bytes(),
        )
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.SUBMITTED, submitted_at=timezone.now()
    )
    submission.refresh_from_db()
    assessment_run(submission=submission)
    submission.refresh_from_db()
    return submission


@pytest.fixture
def newer_rubric(db, tmp_path):
    """Version 1.2.0: activation access counts as level 2 of interpretability access (was 1)."""
    content = yaml.safe_load((RUBRICS_DIRECTORY / "mesa-optimization-1.0.0.yaml").read_text())
    for criterion in content["criteria"]:
        if criterion["id"] == "T1":
            criterion["signals"][0]["map"]["activations"] = 2
    content["version"] = "1.2.0"
    directory = tmp_path / "rubrics"
    directory.mkdir()
    (directory / "mesa-optimization-1.2.0.yaml").write_text(
        yaml.safe_dump(content, sort_keys=False)
    )
    rubrics_load(directory=directory)
    return rubric_by_reference(NEWER)
