"""Plain markdown model cards: the name from the title, narrative sections, nothing guessed."""

from __future__ import annotations

from audits.intake import import_file
from audits.intake.markdown_card import clean_title, import_markdown_card
from tests.audits.intake.cards_support import sample

LLAMA = "meta-llama_llama3_1_MODEL_CARD.md"


def test_llama_3_1_card_sections_and_no_guessed_name():
    imported = import_markdown_card(LLAMA, sample(LLAMA))
    assert imported.kind == "markdown_model_card"
    titles = [s.title for s in imported.narrative]
    assert titles[:4] == [
        "Model Information",
        "Intended Use",
        "Hardware and Software",
        "Training Data",
    ]
    assert "Ethical Considerations and Limitations" in titles
    assert len(titles) == 17
    intended = imported.narrative[1]
    assert intended.location.line == 91
    assert "Intended Use Cases" in intended.markdown
    # The card has no title heading: "Model Information" is a section, not the model's name,
    # and "**Model developer:** Meta" in the prose is not read (no guessing).
    assert imported.fields == {}
    assert "model.name is missing" in imported.warnings[0].message


def test_gpt2_card_name_from_title():
    imported = import_file("model_card.md", sample("openai_gpt-2_model_card.md"))
    assert imported.kind == "markdown_model_card"
    assert imported.fields == {"model.name": "GPT-2"}
    assert imported.provenance["model.name"].line == 1
    assert [s.title for s in imported.narrative][:3] == [
        "GPT-2 model card",
        "Model Details.",
        "Model date",
    ]


def test_titles_are_cleaned():
    assert clean_title("Model Card: CLIP") == "CLIP"
    assert clean_title("Model Card for Zephyr 7B β") == "Zephyr 7B β"
    assert clean_title("BLOOM LM\nBigScience Large Model\nModel Card") == "BLOOM LM"


def test_headings_inside_code_blocks_are_not_sections():
    text = b"# Model Card for Atlas\n\nIntro.\n\n```\n# not a heading\n```\n\n## Risks\n\nSome.\n"
    imported = import_markdown_card("card.md", text)
    assert [s.title for s in imported.narrative] == ["Model Card for Atlas", "Risks"]
    assert "# not a heading" in imported.narrative[0].markdown


def test_a_file_name_or_address_heading_is_not_the_model_name():
    text = b"# README.md\n\nModel name: Atlas 2\n\n## Limitations\n\nIt errs.\n"
    imported = import_markdown_card("README.md", text)
    assert imported.fields == {"model.name": "Atlas 2"}
    assert (imported.provenance["model.name"].line, imported.provenance["model.name"].field) == (
        3,
        "text",
    )
    text = b"# https://github.com/example/atlas\n\n## Limitations\n\nIt errs.\n"
    imported = import_markdown_card("card.md", text)
    assert imported.fields == {}
    (warning,) = imported.warnings
    assert "a file name or an address is not a name" in warning.message


def test_a_lower_heading_that_says_model_card_names_the_model():
    text = b"# models/atlas/MODEL_CARD.md\n\n## Atlas-7B model card\n\nProse.\n"
    imported = import_markdown_card("MODEL_CARD.md", text)
    assert imported.fields == {"model.name": "Atlas-7B"}
    assert imported.provenance["model.name"].line == 3


def test_bold_model_line_names_the_model():
    imported = import_markdown_card("card.md", b"Intro.\n\n- **Model:** Hearth 1.3\n")
    assert imported.fields == {"model.name": "Hearth 1.3"}
