"""Format detection by content, and every shared sample importing."""

from __future__ import annotations

import pytest

from audits.intake import IntakeError, detect_format, import_file
from tests.audits.intake.cards_support import SAMPLES, require_shared_samples, sample

EXPECTED_KINDS = {
    "coding-agent.filing.yaml": "filing",
    "hf-mirror_HuggingFaceH4_zephyr-7b-beta_README.md": "hf_model_card",
    "hf-mirror_allenai_tulu-2-dpo-7b_README.md": "hf_model_card",
    "meta-llama_llama3_1_MODEL_CARD.md": "markdown_model_card",
    "openai_gpt-2_model_card.md": "markdown_model_card",
    "mct_cats_vs_dogs_v0_0_2.json": "model_card_toolkit",
    "mct_full_fixture_v0_0_2.json": "model_card_toolkit",
    "cyclonedx_valid-machine-learning-1.6.json": "cyclonedx",
}


@pytest.mark.parametrize(("name", "kind"), sorted(EXPECTED_KINDS.items()))
def test_kind_is_detected_by_content_not_extension(name, kind):
    assert detect_format("upload.bin", sample(name)) == kind
    assert import_file("upload.bin", sample(name)).kind == kind


def test_json_filing_is_a_filing():
    content = (
        b'{"filing_schema": "govportal/filing/1",'
        b' "model": {"name": "A", "version": "1", "developer": "L"}}'
    )
    assert import_file("f.json", content).fields["model.name"] == "A"


def test_diagnostics_table_goes_to_the_diagnostics_importers():
    imported = import_file("run.csv", b"metric,value\neval_awareness.rate,0.05\n")
    assert imported.kind == "diagnostics_table"
    assert imported.diagnostics[0].metric == "eval_awareness.rate"


def test_unknown_json_names_its_keys():
    with pytest.raises(IntakeError, match="keys colour, size"):
        import_file("x.json", b'{"colour": 1, "size": 2}')


def test_size_limit():
    with pytest.raises(IntakeError, match="more than the 10-byte limit"):
        import_file("big.yaml", b"x" * 11, max_bytes=10)


def test_copied_samples_cover_the_expected_files():
    assert set(EXPECTED_KINDS) <= {path.name for path in SAMPLES.iterdir()}


def test_every_shared_model_card_imports():
    cards = require_shared_samples() / "model_cards"
    names = sorted(path.name for path in cards.iterdir())
    assert names, "the shared samples hold model cards"
    for name in names:
        imported = import_file(name, (cards / name).read_bytes())
        assert imported.kind in {
            "hf_model_card",
            "markdown_model_card",
            "model_card_toolkit",
            "cyclonedx",
        }, name
        assert imported.narrative, f"{name}: every sample card has prose for the report"


def test_the_diagnostics_slot_names_only_diagnostics_formats():
    for content in (b'{"colour": 1}', b"just some words\n", b"%PDF-1.7 binary"):
        with pytest.raises(IntakeError) as caught:
            import_file("upload.bin", content, expect="diagnostics")
        message = caught.value.message
        assert "diagnostics file" in message
        assert "model card" not in message and "filing" not in message
    with pytest.raises(IntakeError, match="this is a Hugging Face model card, not a diagnostics"):
        import_file("README.md", b"---\nlicense: mit\n---\n# Atlas\n", expect="diagnostics")


def test_the_model_card_slot_refuses_diagnostics_and_names_card_formats():
    with pytest.raises(IntakeError, match=r"this is a diagnostics file \(diagnostics_table\)"):
        import_file("run.csv", b"metric,value\nx,1\n", expect="model_card")
    with pytest.raises(IntakeError) as caught:
        import_file("x.json", b'{"colour": 1}', expect="model_card")
    assert "Model Card Toolkit JSON" in caught.value.message
    assert "lm-evaluation-harness" not in caught.value.message


def test_a_table_with_the_wrong_header_says_what_it_expected_and_found():
    with pytest.raises(IntakeError) as caught:
        import_file("scores.csv", b"name,score_text\nfoo,high\n")
    assert caught.value.location.line == 1
    assert "a table whose header has the columns name, score_text" in caught.value.message
    assert "no table header found" not in caught.value.message


def test_missing_shared_samples_skip_locally_and_fail_in_ci(monkeypatch, tmp_path):
    from tests.audits.intake import cards_support

    monkeypatch.setattr(cards_support, "REPO_ROOT", tmp_path / "checkout")
    monkeypatch.delenv("GOVPORTAL_SHARED_SAMPLES", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        cards_support.require_shared_samples()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="GOVPORTAL_SHARED_SAMPLES"):
        cards_support.require_shared_samples()
    elsewhere = tmp_path / "samples"
    elsewhere.mkdir()
    monkeypatch.setenv("GOVPORTAL_SHARED_SAMPLES", str(elsewhere))
    assert cards_support.require_shared_samples() == elsewhere
