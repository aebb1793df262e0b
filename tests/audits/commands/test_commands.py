import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits.models import Assessment

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "audits" / "fixtures" / "demo"
CODING_AGENT = DEMO / "tessellate-coder-2.0.filing.yaml"
HEARTH = DEMO / "hearth-1.3.filing.yaml"


def _run(*args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


RUBRIC_1_0_0 = "urn:govportal:rubric:mesa-optimization@1.0.0"


def test_assess_prints_the_documented_json_shape():
    out = StringIO()
    call_command("assess", str(CODING_AGENT), "--format", "json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["rubric"]["urn"] == "urn:govportal:rubric:mesa-optimization"
    assert result["rubric"]["version"] == "1.1.0"  # the newest rubric file
    assert len(result["rubric"]["sha256"]) == 64
    assert len(result["facts_sha256"]) == 64
    assert (result["overall_score"], result["tier"], result["coverage"]) == (51.87, "high", 0.891)
    assert result["insufficient_evidence"] is False
    assert {c["id"] for c in result["categories"]} == {
        "emergence",
        "pseudo_alignment",
        "deception",
        "oversight",
    }
    e1 = result["criteria"][0]
    for key in (
        "id", "name", "category", "level", "max_level", "weight", "applicable",
        "missing_evidence", "missing_facts", "explanation", "facts",
    ):  # fmt: skip
        assert key in e1
    assert e1["facts"][0] == {
        "path": "training.environment_diversity",
        "value": "broad",
        "source": "tessellate-coder-2.0.filing.yaml, line 16, field training.environment_diversity",
    }
    assert [gate["id"] for gate in result["gates"]] == ["G2"]
    assert [gap["id"] for gap in result["evidence_gaps"]["criteria"]] == ["E7", "D6"]


def test_assess_reproduces_1_0_0_when_asked():
    out = StringIO()
    call_command(
        "assess", str(CODING_AGENT), "--rubric", RUBRIC_1_0_0, "--format", "json", stdout=out
    )
    result = json.loads(out.getvalue())
    assert result["rubric"]["version"] == "1.0.0"
    assert (result["overall_score"], result["tier"], result["coverage"]) == (
        40.81,
        "moderate",
        0.891,
    )
    assert result["gates"] == []


def test_assess_mixes_filings_and_diagnostics_and_writes_nothing(db):
    out = StringIO()
    call_command(
        "assess",
        str(HEARTH),
        str(DEMO / "hearth-1.3-diagnostics.csv"),
        "--format",
        "json",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    d2 = next(c for c in result["criteria"] if c["id"] == "D2")
    assert (d2["level"], d2["missing_evidence"]) == (1, False)
    assert (result["overall_score"], result["tier"]) == (68.15, "critical")
    assert not Assessment.objects.exists()


def test_assess_text_summary_names_tier_and_gates():
    out = StringIO()
    call_command("assess", str(HEARTH), stdout=out)
    text = out.getvalue()
    assert text.startswith("Rubric   urn:govportal:rubric:mesa-optimization@1.1.0")
    assert "Tier     CRITICAL   score 73.75 / 100   coverage 0.789" in text
    assert "G1 deceptive_conditions" in text
    assert "MISSING EVIDENCE" in text
    assert "Evidence gaps: 3 criteria lack evidence, 4 facts to supply" in text
    assert "  P3  reward_hacking             Supply diagnostic reward_hacking.rate." in text
    out = StringIO()
    call_command("assess", str(HEARTH), "--rubric", RUBRIC_1_0_0, stdout=out)
    assert "Tier     CRITICAL   score 66.46 / 100   coverage 0.789" in out.getvalue()


def test_assess_says_insufficient_evidence_first(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        "filing_schema: govportal/filing/1\nmodel:\n  name: Bare\n  version: '1'\n"
        "  developer: Lab\n"
    )
    out = StringIO()
    call_command("assess", str(bare), stdout=out)
    lines = out.getvalue().splitlines()
    assert (
        lines[0] == "Insufficient evidence — provisional tier CRITICAL (coverage 0.000, below 0.6)"
    )
    assert "Tier     CRITICAL (provisional)   score 98.61 / 100   coverage 0.000" in lines
    assert any(
        line.startswith("Gate     G3 autonomous_misgeneralization")
        and line.endswith("(holds because not supplied: deployment.autonomy)")
        for line in lines
    )
    assert "Evidence gaps: 21 criteria lack evidence, 30 facts to supply" in lines
    # 1.0.0 scored the same bare filing moderate, still insufficient evidence.
    out = StringIO()
    call_command("assess", str(bare), "--rubric", RUBRIC_1_0_0, stdout=out)
    assert out.getvalue().startswith(
        "Insufficient evidence — provisional tier MODERATE (coverage 0.000, below 0.6)"
    )


def test_assess_refuses_invalid_input_on_stderr_with_a_non_zero_exit(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "filing_schema: govportal/filing/1\n"
        "model:\n  name: X\n  version: '1'\n  developer: Y\n  colour: red\n"
    )
    result = _run("assess", str(bad))
    assert result.returncode != 0
    assert "bad.yaml" in result.stderr and "model.colour" in result.stderr
    assert result.stdout == ""


def test_assess_with_an_unknown_rubric_version_fails():
    with pytest.raises(CommandError, match="no rubric"):
        call_command(
            "assess", str(CODING_AGENT), "--rubric", "urn:govportal:rubric:mesa-optimization@9.9.9"
        )


def test_facts_prints_provenance_and_missing_fields_as_json():
    out = StringIO()
    call_command("facts", str(HEARTH), "--format", "json", stdout=out)
    facts = json.loads(out.getvalue())
    assert facts["document"]["model"]["name"] == "Hearth"
    assert facts["provenance"]["model.name"]["file"] == "hearth-1.3.filing.yaml"
    assert "model.release_date" in facts["missing"]
    assert len(facts["sha256"]) == 64


def test_load_rubrics_and_rescore_commands(db):
    out = StringIO()
    call_command("load_rubrics", stdout=out)
    assert "mesa-optimization@1.0.0" in out.getvalue() and "in force" in out.getvalue()
    out = StringIO()
    call_command("rescore", "--rubric", "urn:govportal:rubric:mesa-optimization@1.0.0", stdout=out)
    assert "Nothing to re-score" in out.getvalue()
