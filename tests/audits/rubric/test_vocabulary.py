"""The facts a rubric may read come from the filing schema and the metric catalogue."""

import pytest

from audits.intake.catalogue import CATALOGUE
from audits.intake.filing import filing_schema, schema_leaf_paths
from audits.rubric.vocabulary import (
    BOOLEAN,
    CATALOGUE_METRICS,
    ENUM,
    FILING_FACTS,
    KNOWN_FACTS,
    LIST,
    NUMBER,
    TEXT,
    fact_kind,
    filing_facts,
)


def test_every_filing_field_and_catalogue_metric_is_known_and_nothing_else():
    assert list(FILING_FACTS) == schema_leaf_paths()
    assert tuple(CATALOGUE) == CATALOGUE_METRICS
    assert set(KNOWN_FACTS) == set(FILING_FACTS) | {f"diagnostics[{m}]" for m in CATALOGUE}


def test_kinds_and_values_are_the_schemas():
    properties = filing_schema()["properties"]
    for path, kind in FILING_FACTS.items():
        section, _, name = path.partition(".")
        field = properties[section]["properties"][name]
        if kind.kind == ENUM:
            assert list(kind.allowed) == field["enum"], path
        elif kind.kind == LIST:
            assert list(kind.allowed) == field["items"]["enum"], path
    assert FILING_FACTS["training.task_families"].kind == NUMBER  # "integer" in the schema
    assert FILING_FACTS["model.base_model"].kind == TEXT  # string or null
    assert FILING_FACTS["training.human_data"].kind == BOOLEAN


def test_a_new_filing_field_reaches_the_vocabulary():
    schema = filing_schema()
    extended = {
        **schema,
        "properties": {
            **schema["properties"],
            "deployment": {
                **schema["properties"]["deployment"],
                "properties": {
                    **schema["properties"]["deployment"]["properties"],
                    "sandboxed": {"type": "boolean"},
                },
            },
        },
    }
    assert filing_facts(extended)["deployment.sandboxed"].kind == BOOLEAN


def test_a_field_shape_rubrics_cannot_read_is_refused():
    with pytest.raises(ValueError, match=r"deployment\.limits has a shape rubrics cannot read"):
        fact_kind("deployment.limits", {"type": "object"})
