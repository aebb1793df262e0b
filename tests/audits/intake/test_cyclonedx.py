"""CycloneDX 1.5/1.6 ML-BOM."""

from __future__ import annotations

import json

import pytest

from audits.intake import IntakeError, import_file
from audits.intake.cyclonedx import import_cyclonedx
from tests.audits.intake.cards_support import sample

BOM = "cyclonedx_valid-machine-learning-1.6.json"


def test_cyclonedx_1_6_model_card():
    imported = import_file(BOM, sample(BOM))
    assert imported.kind == "cyclonedx"
    assert imported.fields["model.name"] == "stable-diffusion"
    assert imported.fields["model.version"] == "1.4"
    assert imported.fields["model.developer"] == "Acme Inc"
    assert imported.provenance["model.developer"].field == "components[0].publisher"
    # The model card's task and datasets are metadata (shown, not scored); the group and
    # description are not kept.
    assert imported.metadata["pipeline_tag"] == {
        "value": "task goes here",
        "source": {
            "file": BOM,
            "line": None,
            "field": "components[0].modelCard.modelParameters.task",
        },
    }
    assert imported.metadata["datasets"]["value"] == ["Training Data"]
    assert not any(path.startswith("card.") for path in imported.fields)
    titles = [s.title for s in imported.narrative]
    assert titles == [
        "Intended users",
        "Use cases",
        "Technical limitations",
        "Performance tradeoffs",
        "Ethical considerations",
        "Fairness assessments",
    ]
    assert "Data scientists and ML researchers" in imported.narrative[0].markdown
    # The fixture's metric value is placeholder text: a warning, not a diagnostic.
    assert imported.diagnostics == []
    [warning] = imported.warnings
    assert warning.location.field == (
        "components[0].modelCard.quantitativeAnalysis.performanceMetrics[0]"
    )
    assert "/9j/4AAQ" not in json.dumps(imported.fields)  # the base64 JPEG is dropped


def test_environmental_considerations_and_publisher():
    name = "cyclonedx_valid-machine-learning-considerations-env-1.6.json"
    imported = import_cyclonedx(name, sample(name))
    assert imported.fields["model.name"] == "Llama-2-7b"
    assert imported.fields["model.developer"] == "meta"  # not the supplier, Hugging Face
    assert "model.version" not in imported.fields
    assert imported.narrative[0].title == "Environmental considerations"
    assert "natural-gas" in imported.narrative[0].markdown


def bom(*components, metadata=None):
    document = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": list(components)}
    if metadata:
        document["metadata"] = metadata
    return json.dumps(document).encode()


MODEL = {
    "type": "machine-learning-model",
    "name": "atlas",
    "version": "2",
    "author": "Lab",
    "modelCard": {
        "quantitativeAnalysis": {
            "performanceMetrics": [
                {
                    "type": "accuracy",
                    "value": "0.8",
                    "slice": "en",
                    "confidenceInterval": {"lowerBound": "0.7", "upperBound": "0.9"},
                }
            ]
        }
    },
}


def test_nested_model_component_with_metrics():
    wrapper = {"type": "application", "name": "app", "components": [MODEL]}
    imported = import_cyclonedx("bom.json", bom(wrapper))
    assert imported.fields["model.developer"] == "Lab"
    [metric] = imported.diagnostics
    assert (metric.metric, metric.value, metric.ci_low, metric.ci_high) == (
        "cyclonedx.accuracy.en",
        0.8,
        0.7,
        0.9,
    )
    assert metric.location.field == (
        "components[0].components[0].modelCard.quantitativeAnalysis.performanceMetrics[0]"
    )


def test_several_models_without_a_subject_take_no_model_facts():
    other = {**MODEL, "name": "helper"}
    imported = import_cyclonedx("bom.json", bom(MODEL, other))
    assert not any(path.startswith("model.") for path in imported.fields)
    assert {d.metric for d in imported.diagnostics} == {
        "cyclonedx.atlas.accuracy.en",
        "cyclonedx.helper.accuracy.en",
    }
    assert "2 machine-learning models" in imported.warnings[0].message


def test_bom_without_a_model_is_refused():
    with pytest.raises(IntakeError, match="no component of type machine-learning-model"):
        import_cyclonedx("bom.json", bom({"type": "library", "name": "x"}))


def test_licences_and_tags_are_metadata():
    component = {
        "type": "machine-learning-model",
        "name": "atlas",
        "licenses": [{"license": {"id": "Apache-2.0"}}, {"expression": "MIT OR BSD-3-Clause"}],
        "tags": ["agent", "code"],
    }
    imported = import_cyclonedx("atlas.cdx.json", bom(component))
    assert imported.metadata["license"]["value"] == ["Apache-2.0", "MIT OR BSD-3-Clause"]
    assert imported.metadata["license"]["source"]["field"] == "components[0].licenses"
    assert imported.metadata["tags"]["value"] == ["agent", "code"]
