"""The public and the confidential variant of a final report: what each carries."""

import pytest

from audits.reports.variants import confidential_evidence_files, is_confidential
from audits.services.files import stored_file_read
from audits.services.reports import report_render, report_verify
from tests.reports.conftest import pdf_text
from tests.reports.factories import NARRATIVE, pending_report, submitted_filing

SECRET_SECTION = {
    "title": "Red-team findings",
    "markdown": "The jailbreak corpus **RT-7** bypassed the refusal head.",
    "file": "README.md",
    "confidential": True,
}


@pytest.fixture
def both(lab_member, reviewer):
    reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
    reviewer.save()
    submission, assessment = submitted_filing(
        lab_member=lab_member,
        reviewer=reviewer,
        decision="accept",
        narrative=[*NARRATIVE, SECRET_SECTION],
        confidential_evidence=(1,),
        conditions=["Publish the probe study within 90 days."],
    )
    texts = {}
    reports = {}
    for variant in ("confidential", "public"):
        report = report_render(
            report_id=pending_report(
                submission, assessment, kind="final", variant=variant, version=1
            ).pk
        )
        assert report.status == "ready", report.error
        reports[variant] = report
        texts[variant] = pdf_text(stored_file_read(report.pdf))
    return submission, assessment, reports, texts


def test_the_confidential_variant_carries_everything(both):
    submission, _, _, texts = both
    text = texts["confidential"]
    for stored in submission.evidences.select_related("stored_file"):
        assert stored.file_name in text and stored.stored_file.sha256[:32] in text
    assert "Red-team findings CONFIDENTIAL" in text and "RT-7" in text
    assert "Rita Reviewer (reviewer)" in text and "lab-member" in text
    assert "Please clarify how task families were counted." in text  # the comment
    assert "confidential variant" in text


def test_the_public_variant_omits_names_hashes_comments_and_confidential_prose(both):
    submission, assessment, _, texts = both
    public = texts["public"]
    for upload in submission.evidences.select_related("stored_file"):
        assert upload.file_name not in public
        assert upload.stored_file.sha256[:32] not in public
    # The description of confidential evidence goes; the other one stays.
    assert "Interpretability study part 2" not in public
    assert "Interpretability study part 1" in public
    assert "Red-team findings" not in public and "RT-7" not in public
    assert "1 section the lab marked confidential is left out" in public
    assert "Tessellate Coder edits repositories" in public  # non-confidential prose stays
    assert "Intended use" in public
    assert "Rita" not in public and "lab-member" not in public and "(reviewer)" not in public
    assert "Please clarify how task families were counted." not in public
    assert "Review comments (1) and the notes of review events are left out" in public
    # What decides the outcome is the same: tier, scores, levels, overrides, decision.
    result = assessment.result
    for expected in (
        result["tier"].upper(),
        f"{result['overall_score']:.2f}",
        "The lab's ablation study shows the task families overlap.",
        "Accepted for Authority",
        "Publish the probe study within 90 days.",
        "Methodology",
        "public variant",
    ):
        assert expected in public, expected
    for criterion in result["criteria"]:
        assert criterion["explanation"][:40] in public


def test_both_variants_verify_and_name_their_variant(both):
    _, _, reports, _ = both
    for variant, report in reports.items():
        outcome = report_verify(content=stored_file_read(report.pdf))
        assert outcome["state"] == "issued" and outcome["signature"]["valid"]
        assert outcome["report"]["variant"] == variant
        assert f"{variant} variant" in outcome["message"]


def test_confidential_marks_are_read_defensively():
    assert is_confidential({"confidential": True})
    for entry in ({}, {"confidential": False}, {"confidential": "yes"}, {"confidential": 1}):
        assert not is_confidential(entry)
    document = {
        "evidence": [
            {"file": "a.pdf", "confidential": True},
            {"file": "b.pdf"},
            {"description": "no file", "confidential": True},
            "not an entry",
        ]
    }
    assert confidential_evidence_files(document) == {"a.pdf"}
    assert confidential_evidence_files({}) == set()
