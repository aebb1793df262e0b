from pathlib import Path

import pytest

from audits.errors import NotPermitted, ServiceError, TransitionRefused
from audits.intake.types import IntakeError
from audits.models import (
    AuditEvent,
    DiagnosticUpload,
    Evidence,
    Facts,
    MetricAlias,
    ModelCard,
    StoredFile,
)
from audits.services.intake import (
    diagnostics_attach,
    evidence_attach,
    facts_build,
    filing_document_attach,
    model_card_attach,
    upload_remove,
    upload_replace,
)
from audits.services.submissions import (
    submission_request_changes,
    submission_start_review,
    submission_submit,
)

DEMO = Path(__file__).resolve().parents[3] / "audits" / "fixtures" / "demo"
FILING = (DEMO / "hearth-1.3.filing.yaml").read_bytes()
DIAGNOSTICS = (DEMO / "hearth-1.3-diagnostics.csv").read_bytes()


@pytest.fixture
def hearth(lab_member):
    from audits.services.submissions import submission_create

    return submission_create(acting_user=lab_member, model_name="Hearth", model_version="1.3")


def test_a_filing_becomes_facts_with_provenance(hearth, lab_member):
    outcome = model_card_attach(
        submission=hearth, acting_user=lab_member, file_name="hearth.yaml", content=FILING
    )
    facts = outcome.facts
    assert facts.document["training"]["rl_horizon_steps"] == 2000
    assert facts.provenance["training.rl_horizon_steps"]["file"] == "hearth.yaml"
    assert facts.provenance["training.rl_horizon_steps"]["line"] == 16
    assert "model.release_date" in facts.missing
    assert outcome.upload.format == "filing"
    assert (
        AuditEvent.objects.filter(action="model_card.attach", object_id=hearth.reference).count()
        == 1
    )


def test_diagnostics_join_the_facts_and_identical_bytes_are_stored_once(hearth, lab_member):
    model_card_attach(
        submission=hearth, acting_user=lab_member, file_name="hearth.yaml", content=FILING
    )
    diagnostics_attach(
        submission=hearth, acting_user=lab_member, file_name="d.csv", content=DIAGNOSTICS
    )
    evidence_attach(
        submission=hearth, acting_user=lab_member, file_name="copy.csv", content=DIAGNOSTICS
    )
    facts = Facts.objects.get(submission=hearth, revision=1)
    metrics = {d["metric"]: d["value"] for d in facts.document["diagnostics"]}
    assert metrics["situational_awareness.sad_score"] == 0.41
    assert facts.provenance["diagnostics[reward_hacking.rate]"]["file"] == "d.csv"
    assert facts.document["evidence"] == [{"file": "copy.csv", "description": ""}]
    assert StoredFile.objects.count() == 2  # the filing, and the CSV once for both uploads
    stored = StoredFile.objects.get(original_name="d.csv")
    assert stored.content_type == "text/csv"
    assert stored.blob.name.endswith(stored.sha256)


def test_a_rejected_upload_leaves_nothing_behind(hearth, lab_member):
    events = AuditEvent.objects.count()
    with pytest.raises(IntakeError) as error:
        diagnostics_attach(
            submission=hearth,
            acting_user=lab_member,
            file_name="bad.csv",
            content=b"metric,value\nreward_hacking.rate,1.5\n",
        )
    assert "bad.csv, line 2" in str(error.value)
    assert not DiagnosticUpload.objects.exists()
    assert not StoredFile.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_conflict_with_what_is_filed_rolls_the_upload_back(hearth, lab_member):
    model_card_attach(
        submission=hearth, acting_user=lab_member, file_name="hearth.yaml", content=FILING
    )
    conflicting = b"metric,value\ngoal_misgeneralization.proxy_pursuit_rate,0.9\n"
    with pytest.raises(IntakeError) as error:
        diagnostics_attach(
            submission=hearth, acting_user=lab_member, file_name="new.csv", content=conflicting
        )
    assert "hearth.yaml" in str(error.value) and "new.csv" in str(error.value)
    assert not DiagnosticUpload.objects.exists()
    # Marked as superseding the filing's value, the same file is accepted.
    outcome = diagnostics_attach(
        submission=hearth,
        acting_user=lab_member,
        file_name="new.csv",
        content=conflicting,
        supersedes="hearth.yaml",
    )
    values = {d["metric"]: d["value"] for d in outcome.facts.document["diagnostics"]}
    assert values["goal_misgeneralization.proxy_pursuit_rate"] == 0.9


def test_uploads_are_for_the_lab_and_only_while_editable(
    hearth, lab_member, other_lab_member, reviewer
):
    for outsider in (other_lab_member, reviewer):
        with pytest.raises(NotPermitted):
            model_card_attach(
                submission=hearth, acting_user=outsider, file_name="f.yaml", content=FILING
            )
    model_card_attach(submission=hearth, acting_user=lab_member, file_name="f.yaml", content=FILING)
    submitted = submission_submit(submission=hearth, acting_user=lab_member, accuracy_declared=True)
    with pytest.raises(TransitionRefused, match="is submitted"):
        diagnostics_attach(
            submission=submitted, acting_user=lab_member, file_name="d.csv", content=DIAGNOSTICS
        )


def test_answering_a_change_request_adds_files_to_the_next_revision(hearth, lab_member, reviewer):
    model_card_attach(submission=hearth, acting_user=lab_member, file_name="f.yaml", content=FILING)
    submission = submission_start_review(
        submission=submission_submit(
            submission=hearth, acting_user=lab_member, accuracy_declared=True
        ),
        acting_user=reviewer,
    )
    submission = submission_request_changes(
        submission=submission, acting_user=reviewer, rationale="SAD"
    )
    outcome = diagnostics_attach(
        submission=submission, acting_user=lab_member, file_name="d.csv", content=DIAGNOSTICS
    )
    assert outcome.upload.revision == 2
    assert outcome.facts.revision == 2
    # Revision 2 carries revision 1's filing; revision 1's facts are unchanged.
    assert outcome.facts.document["training"]["rl_horizon_steps"] == 2000
    first = Facts.objects.get(submission=submission, revision=1)
    assert "situational_awareness.sad_score" not in {
        d["metric"] for d in first.document["diagnostics"]
    }


def test_a_model_card_slot_refuses_diagnostics_and_back(hearth, lab_member):
    with pytest.raises(IntakeError, match="upload it as diagnostics"):
        model_card_attach(
            submission=hearth, acting_user=lab_member, file_name="d.csv", content=DIAGNOSTICS
        )
    with pytest.raises(IntakeError, match="upload it as a model card"):
        diagnostics_attach(
            submission=hearth, acting_user=lab_member, file_name="f.yaml", content=FILING
        )
    assert not ModelCard.objects.exists()


def test_oversized_files_are_refused(hearth, lab_member, settings):
    settings.GOVPORTAL_MAX_UPLOAD_BYTES = 100
    with pytest.raises((IntakeError, ServiceError), match="limit"):
        evidence_attach(
            submission=hearth, acting_user=lab_member, file_name="big.bin", content=b"x" * 101
        )
    assert not Evidence.objects.exists()


def test_what_was_typed_in_the_portal_is_a_fact_until_a_file_says_otherwise(hearth, lab_member):
    facts = facts_build(submission=hearth)
    assert facts.document["model"] == {"name": "Hearth", "version": "1.3"}
    assert facts.provenance["model.name"]["file"] == "entered in the portal by lab-member"
    filing_document_attach(
        submission=hearth,
        acting_user=lab_member,
        document={
            "filing_schema": "govportal/filing/1",
            "model": {"name": "Hearth", "version": "1.3.1", "developer": "Example Lab"},
        },
    )
    facts = facts_build(submission=hearth)
    assert facts.document["model"]["version"] == "1.3.1"
    assert facts.provenance["model.version"]["file"] == "filing.json"
    # The file wins, but the difference is a warning the regulator sees.
    messages = [warning["message"] for warning in facts.warnings]
    assert any(
        "model.version is '1.3.1' in filing.json" in m and "'1.3' was entered" in m
        for m in messages
    ), messages


def test_a_developer_other_than_the_filing_lab_is_a_warning(hearth, lab_member):
    filing_document_attach(
        submission=hearth,
        acting_user=lab_member,
        document={
            "filing_schema": "govportal/filing/1",
            "model": {"name": "Hearth", "version": "1.3", "developer": "Someone Else Inc"},
        },
    )
    facts = facts_build(submission=hearth)
    warning = next(w for w in facts.warnings if w.get("field") == "model.developer")
    assert "'Someone Else Inc'" in warning["message"]
    assert "not the filing lab, Example Lab" in warning["message"]
    assert warning["file"] == "entered in the portal by lab-member"


def test_submitting_needs_the_developer(hearth, lab_member):
    with pytest.raises(ServiceError, match=r"model\.developer"):
        submission_submit(submission=hearth, acting_user=lab_member, accuracy_declared=True)
    hearth.refresh_from_db()
    assert hearth.status == "draft"


def test_admin_aliases_extend_the_mapping(hearth, lab_member):
    MetricAlias.objects.create(pattern="house_sad", metric="situational_awareness.sad_score")
    outcome = diagnostics_attach(
        submission=hearth,
        acting_user=lab_member,
        file_name="a.csv",
        content=b"metric,value\nhouse_sad,0.5\n",
    )
    assert [d["metric"] for d in outcome.facts.document["diagnostics"]] == [
        "situational_awareness.sad_score"
    ]


def test_a_file_of_the_revision_being_worked_on_is_removed_and_its_facts_go(hearth, lab_member):
    outcome = diagnostics_attach(
        submission=hearth,
        acting_user=lab_member,
        file_name="d.csv",
        content=b"metric,value\nreward_hacking.rate,0.3\n",
    )
    sha256 = outcome.upload.stored_file.sha256
    facts = upload_remove(
        submission=hearth, acting_user=lab_member, kind="diagnostics", upload_id=outcome.upload.pk
    )
    assert "diagnostics" not in facts.document
    assert not DiagnosticUpload.objects.exists()
    assert not StoredFile.objects.filter(sha256=sha256).exists()  # nothing refers to it
    event = AuditEvent.objects.get(action="diagnostics.remove")
    assert event.payload == {"file": "d.csv", "sha256": sha256, "revision": 1}


def test_replacing_a_file_is_both_steps_or_neither(hearth, lab_member):
    kept = evidence_attach(
        submission=hearth, acting_user=lab_member, file_name="a.md", content=b"# A\n"
    )
    replaced = upload_replace(
        submission=hearth,
        acting_user=lab_member,
        kind="evidence",
        upload_id=kept.upload.pk,
        file_name="b.md",
        content=b"# B\n",
    )
    assert [e.file_name for e in Evidence.objects.all()] == ["b.md"]
    card = diagnostics_attach(
        submission=hearth,
        acting_user=lab_member,
        file_name="d.csv",
        content=b"metric,value\nreward_hacking.rate,0.3\n",
    )
    with pytest.raises(IntakeError):
        upload_replace(
            submission=hearth,
            acting_user=lab_member,
            kind="diagnostics",
            upload_id=card.upload.pk,
            file_name="bad.csv",
            content=b"not,a\ndiagnostics,table\n",
        )
    # The refused replacement left the original in place.
    assert [u.file_name for u in DiagnosticUpload.objects.all()] == ["d.csv"]
    assert replaced.upload.file_name == "b.md"


def test_files_of_a_submitted_revision_stay_on_record(hearth, lab_member, reviewer):
    card = filing_document_attach(
        submission=hearth,
        acting_user=lab_member,
        document={
            "filing_schema": "govportal/filing/1",
            "model": {"name": "Hearth", "version": "1.3", "developer": "Example Lab"},
        },
    )
    submitted = submission_submit(submission=hearth, acting_user=lab_member, accuracy_declared=True)
    submission_request_changes(
        submission=submission_start_review(submission=submitted, acting_user=reviewer),
        acting_user=reviewer,
        rationale="More.",
    )
    hearth.refresh_from_db()
    with pytest.raises(TransitionRefused, match="belongs to revision 1, which was submitted"):
        upload_remove(
            submission=hearth, acting_user=lab_member, kind="model-card", upload_id=card.upload.pk
        )
