"""Google Model Card Toolkit JSON (schema 0.0.2)."""

from __future__ import annotations

import json

import pytest

from audits.intake import import_file
from audits.intake.model_card_toolkit import import_model_card_toolkit
from tests.audits.intake.cards_support import sample

CATS = "mct_cats_vs_dogs_v0_0_2.json"


def test_cats_vs_dogs_facts_and_metrics():
    imported = import_file(CATS, sample(CATS))
    assert imported.kind == "model_card_toolkit"
    assert imported.fields["model.name"] == "Fine-tuned MobileNetV2 Model for Cat vs. Dogs"
    assert imported.fields["model.version"] == "v1.0"
    assert imported.fields["model.developer"] == "Model Cards Team"
    assert imported.provenance["model.developer"].field == "model_details.owners[0].name"
    metrics = {d.metric: d for d in imported.diagnostics}
    assert set(metrics) == {"mct.accuracy", "mct.accuracy.cat", "mct.accuracy.Dog"}
    cat = metrics["mct.accuracy.cat"]
    assert cat.value == pytest.approx(0.9932885766029358)
    assert (cat.ci_low, cat.ci_high) == (pytest.approx(0.9832885766), pytest.approx(1.0032885766))
    assert cat.notes == "threshold 0.5"
    assert cat.location.field == "quantitative_analysis.performance_metrics[1]"
    titles = [s.title for s in imported.narrative]
    assert titles == [
        "Overview",
        "Intended users",
        "Use cases",
        "Limitations",
        "Tradeoffs",
        "Ethical considerations",
    ]
    assert "mitigation: Avoid application" in imported.narrative[-1].markdown
    assert imported.metadata["license"]["value"] == "Apache-2.0"  # a custom_text licence
    assert imported.metadata["datasets"]["value"] == ["Training Set", "Validation Set"]
    assert imported.metadata["datasets"]["source"]["field"] == "model_parameters.data"


def test_graphics_are_not_kept():
    imported = import_model_card_toolkit(CATS, sample(CATS))
    dumped = json.dumps([imported.fields, imported.metadata])
    assert "iVBORw0KGgo" not in dumped  # the base64 PNGs
    assert "graphics" not in dumped


def test_several_owners_leave_the_developer_missing():
    imported = import_model_card_toolkit("full.json", sample("mct_full_fixture_v0_0_2.json"))
    assert "model.developer" not in imported.fields
    assert "2 owners" in imported.warnings[0].message
    assert [d.metric for d in imported.diagnostics] == ["mct.accuracy.overall"]


def test_non_numeric_metric_is_a_warning():
    document = {
        "schema_version": "0.0.2",
        "model_details": {"name": "m"},
        "quantitative_analysis": {"performance_metrics": [{"type": "auc", "value": "high"}]},
    }
    imported = import_model_card_toolkit("m.json", json.dumps(document).encode())
    assert imported.diagnostics == []
    assert imported.warnings[0].location.field == "quantitative_analysis.performance_metrics[0]"
