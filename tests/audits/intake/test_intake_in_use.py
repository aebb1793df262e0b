"""Intake as the portal and the command line use it: stored facts, new formats through the
upload services, and what `manage.py facts` and `assess` say about unscored diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from audits.intake.diagnostics import common
from audits.intake.types import IntakeError
from audits.models import DiagnosticUpload, Facts, ModelCard, StoredFile
from audits.services.intake import diagnostics_attach, model_card_attach
from audits.services.submissions import submission_create
from tests.audits.intake.cards_support import REPO_ROOT
from tests.audits.intake.diagnostics_helpers import FORMATS, zipped_directory


@pytest.fixture
def atlas(lab_member):
    return submission_create(acting_user=lab_member, model_name="Atlas 7B", model_version="2.1")


def test_metadata_and_confidential_marks_are_stored_beside_the_facts(atlas, lab_member):
    card = (FORMATS / "hf-card.md").read_bytes()
    outcome = model_card_attach(
        submission=atlas, acting_user=lab_member, file_name="README.md", content=card
    )
    stored = Facts.objects.get(pk=outcome.facts.pk)
    assert stored.metadata["license"] == {
        "value": "apache-2.0",
        "source": {"file": "README.md", "line": 2, "field": "license"},
    }
    assert stored.metadata["confidential_sections"]["value"] == [
        "Evaluation details",
        "Training data",
    ]
    assert "license" not in json.dumps(stored.document)
    # The upload keeps them too, so facts rebuild without re-parsing the card.
    assert outcome.upload.extracted["metadata"]["language"]["value"] == ["en", "fr"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("results.json", (FORMATS / "lighteval-results.json").read_bytes()),
        ("run.zip", zipped_directory(FORMATS / "helm-run")),
        ("runs.csv", (FORMATS / "wide.csv").read_bytes()),
    ],
)
def test_new_formats_are_accepted_as_diagnostics(atlas, lab_member, name, content):
    outcome = diagnostics_attach(
        submission=atlas, acting_user=lab_member, file_name=name, content=content
    )
    assert outcome.imported is not None and outcome.imported.diagnostics
    assert outcome.facts.document["diagnostics"]


def test_facts_command_prints_metadata_and_unscored_diagnostics():
    out = StringIO()
    call_command(
        "facts",
        str(FORMATS / "hf-card.md"),
        str(FORMATS / "lm-eval-v0.4-groups.json"),
        stdout=out,
    )
    text = out.getvalue()
    assert "metadata (shown to the regulator, not scored):" in text
    assert "  license = 'apache-2.0'  ← hf-card.md, line 2, field license" in text
    assert "7 diagnostics read but not scored (not in the metric catalogue):" in text
    # The log evaluated the card's model under another spelling (org prefix): no warning.
    assert "lm-eval-v0.4-groups.json is an evaluation of 'example-lab/atlas-7b'" not in text
    out = StringIO()
    call_command("facts", str(FORMATS / "summary.csv"), "--format", "json", stdout=out)
    facts = json.loads(out.getvalue())
    assert [entry["metric"] for entry in facts["unscored_diagnostics"]] == ["tokens_per_answer"]
    assert facts["unscored_diagnostics"][0]["location"]["line"] == 4


def test_assess_says_how_many_diagnostics_it_did_not_score():
    out = StringIO()
    call_command("assess", str(FORMATS / "filing.json"), str(FORMATS / "summary.csv"), stdout=out)
    assert (
        "1 diagnostic read but not scored (not in the metric catalogue): tokens_per_answer"
        in out.getvalue()
    )
    # JSON on standard output stays the documented shape; the note goes to standard error.
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "assess",
            str(FORMATS / "filing.json"),
            str(FORMATS / "summary.csv"),
            "--format",
            "json",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "rubric" in json.loads(result.stdout)
    assert "1 diagnostic read but not scored" in result.stderr


def test_a_nul_character_is_refused_before_anything_is_stored(atlas, lab_member):
    content = (REPO_ROOT / "tests" / "data" / "bad" / "nul-escape.json").read_bytes()
    with pytest.raises(IntakeError) as caught:
        model_card_attach(
            submission=atlas, acting_user=lab_member, file_name="card.json", content=content
        )
    assert (caught.value.location.file, caught.value.location.field) == ("card.json", "model.name")
    assert not ModelCard.objects.filter(submission=atlas).exists()
    assert not StoredFile.objects.exists()


def test_repeated_rows_store_one_warning_not_one_per_row(atlas, lab_member):
    rows = b"".join(b"scheming.in_context_rate,0.12\n" for _ in range(2_000))
    outcome = diagnostics_attach(
        submission=atlas,
        acting_user=lab_member,
        file_name="repeats.csv",
        content=b"metric,value\n" + rows,
    )
    upload = DiagnosticUpload.objects.get(pk=outcome.upload.pk)
    assert len(upload.warnings) == 1
    assert upload.warnings[0]["repeats"] == 1_998
    assert len(upload.extracted["warnings"]) == 1
    stored = Facts.objects.get(pk=outcome.facts.pk)
    assert [w["message"] for w in stored.warnings if "repeats.csv" in w["file"]] == [
        upload.warnings[0]["message"]
    ]


def test_runaway_repeats_are_refused_and_leave_nothing(atlas, lab_member, monkeypatch):
    monkeypatch.setattr(common, "MAX_DISTINCT_METRICS", 100)
    monkeypatch.setattr(common, "MAX_DUPLICATE_ROWS", 50)
    rows = b"".join(b"scheming.in_context_rate,0.12\n" for _ in range(500))
    with pytest.raises(IntakeError) as caught:
        diagnostics_attach(
            submission=atlas,
            acting_user=lab_member,
            file_name="repeats.csv",
            content=b"metric,value\n" + rows,
        )
    assert caught.value.location.line == 53
    assert not DiagnosticUpload.objects.filter(submission=atlas).exists()
