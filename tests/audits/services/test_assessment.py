from pathlib import Path

import pytest
import yaml

from audits.errors import ServiceError
from audits.models import Assessment, AuditEvent, Rubric
from audits.rubric import RUBRICS_DIRECTORY
from audits.selectors import rubric_in_force
from audits.services.assessment import assessment_run, assessments_rescore
from audits.services.intake import model_card_attach
from audits.services.rubrics import rubric_by_reference, rubric_publish, rubrics_load
from audits.services.submissions import submission_create, submission_submit

DEMO = Path(__file__).resolve().parents[3] / "audits" / "fixtures" / "demo"


@pytest.fixture
def coding_agent(lab_member):
    submission = submission_create(
        acting_user=lab_member, model_name="Tessellate Coder", model_version="2.0"
    )
    model_card_attach(
        submission=submission,
        acting_user=lab_member,
        file_name="coding-agent.filing.yaml",
        content=(DEMO / "tessellate-coder-2.0.filing.yaml").read_bytes(),
    )
    return submission


def test_migrations_store_the_shipped_rubric_in_force(db):
    rubric = rubric_in_force()
    assert (rubric.urn, rubric.version) == ("urn:govportal:rubric:mesa-optimization", "1.0.0")
    assert len(rubric.sha256) == 64


def test_submitting_assesses_the_revision(coding_agent, lab_member):
    submission = submission_submit(
        submission=coding_agent, acting_user=lab_member, accuracy_declared=True
    )
    assessment = submission.current_assessment
    assert assessment is not None
    assert (assessment.overall_score, assessment.tier, assessment.coverage) == (
        40.81,
        "moderate",
        0.891,
    )
    assert assessment.result["rubric"]["sha256"] == assessment.rubric.sha256
    assert assessment.facts_sha256 == submission.facts.get(revision=1).sha256
    assert submission.revisions.get(number=1).facts_sha256 == assessment.facts_sha256
    assert AuditEvent.objects.filter(
        action="assessment.run", object_id=submission.reference
    ).exists()


def test_a_stored_assessment_can_be_recomputed(coding_agent, lab_member):
    submission = submission_submit(
        submission=coding_agent, acting_user=lab_member, accuracy_declared=True
    )
    first = submission.current_assessment
    again = assessment_run(submission=submission)
    assert again.pk != first.pk
    assert again.result == first.result


def test_rescoring_under_a_new_version_keeps_the_diff(
    coding_agent, lab_member, tmp_path, regulator_admin
):
    submission_submit(submission=coding_agent, acting_user=lab_member, accuracy_declared=True)
    content = yaml.safe_load(
        next(RUBRICS_DIRECTORY.glob("mesa-optimization-1.0.0.yaml")).read_text()
    )
    # Version 1.2.0 treats activation access as level 2 of interpretability access (was 1).
    for criterion in content["criteria"]:
        if criterion["id"] == "T1":
            criterion["signals"][0]["map"]["activations"] = 2
    content["version"] = "1.2.0"
    directory = tmp_path / "rubrics"
    directory.mkdir()
    (directory / "mesa-optimization-1.2.0.yaml").write_text(
        yaml.safe_dump(content, sort_keys=False)
    )
    loads = rubrics_load(directory=directory)
    assert [load.created for load in loads] == [True]
    assert rubric_in_force().version == "1.0.0"  # loading does not publish

    new = rubric_by_reference("urn:govportal:rubric:mesa-optimization@1.2.0")
    rescores = assessments_rescore(rubric=new)
    assert [r.submission for r in rescores] == [coding_agent]
    diff = rescores[0].diff
    assert diff["overall_score"]["old"] == 40.81
    assert diff["overall_score"]["new"] > 40.81
    assert diff["criteria"] == [
        {"id": "T1", "name": "interpretability_access", "old_level": 1, "new_level": 2}
    ]
    assert Assessment.objects.get(pk=rescores[0].assessment.pk).diff == diff
    coding_agent.refresh_from_db()
    assert coding_agent.current_assessment == rescores[0].assessment
    assert [r.status for r in assessments_rescore(rubric=new)] == ["skipped"]  # nothing twice

    rubric_publish(rubric=new, acting_user=regulator_admin)
    assert rubric_in_force().version == "1.2.0"
    assert Rubric.objects.filter(in_force=True).count() == 1


def test_a_changed_rubric_under_a_stored_version_is_refused(db, tmp_path):
    content = yaml.safe_load(
        next(RUBRICS_DIRECTORY.glob("mesa-optimization-1.0.0.yaml")).read_text()
    )
    content["categories"][0]["title"] = "Edited in place"
    directory = tmp_path / "rubrics"
    directory.mkdir()
    (directory / "edited.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    with pytest.raises(ServiceError, match="already stored with different content"):
        rubrics_load(directory=directory)


def test_only_regulator_admins_publish(db, reviewer):
    from audits.errors import NotPermitted

    with pytest.raises(NotPermitted):
        rubric_publish(rubric=rubric_in_force(), acting_user=reviewer)
