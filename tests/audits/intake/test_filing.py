"""The native filing: schema v1, strict validation, number semantics, provenance."""

from __future__ import annotations

import json

import jsonschema
import pytest

from audits.intake import IntakeError, IntakeErrors, import_file, validate_filing
from audits.intake.catalogue import CATALOGUE, check_metric_value
from audits.intake.filing import (
    SCHEMA_PATH,
    filing_schema,
    import_filing,
    schema_leaf_paths,
)
from tests.audits.intake.cards_support import FILING_HEAD, sample


def errors_of(source: str, content: str | bytes) -> list[IntakeError]:
    data = content.encode() if isinstance(content, str) else content
    with pytest.raises(IntakeError) as caught:
        import_filing(source, data)
    error = caught.value
    return error.errors if isinstance(error, IntakeErrors) else [error]


def test_published_schema_is_draft_2020_12_and_closed_everywhere():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["filing_schema"] == {
        "const": "govportal/filing/1",
        "description": "The schema this filing follows.",
    }
    objects = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object":
                objects.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert len(objects) == 7  # top, model, training, deployment, transparency, 2 items
    assert all(node["additionalProperties"] is False for node in objects)
    assert schema["properties"]["model"]["required"] == ["name", "version", "developer"]


def test_leaf_paths_follow_filing_md_order():
    paths = schema_leaf_paths()
    assert paths[:3] == ["model.name", "model.version", "model.developer"]
    assert paths[-1] == "transparency.reasoning_visibility"
    assert "training.rl_horizon_steps" in paths
    assert len(paths) == 32


def test_example_filing_imports_with_numbers_and_line_provenance():
    imported = import_filing("coding-agent.filing.yaml", sample("coding-agent.filing.yaml"))
    assert imported.kind == "filing"
    assert imported.fields["model.parameters"] == 3.4e10
    assert imported.fields["training.compute_flop"] == 3.0e24
    assert imported.fields["training.objectives"] == [
        "self_supervised",
        "rlhf",
        "rl_verifiable_rewards",
    ]
    assert imported.fields["model.release_date"] == "2026-10-01"  # a date stays text
    assert imported.fields["model.version"] == "2.0"
    location = imported.provenance["model.parameters"]
    assert (location.file, location.line, location.field) == (
        "coding-agent.filing.yaml",
        8,
        "model.parameters",
    )
    sad = imported.diagnostics[0]
    assert (sad.metric, sad.value, sad.ci_low, sad.ci_high, sad.n, sad.suite) == (
        "situational_awareness.sad_score",
        0.47,
        0.45,
        0.49,
        13000,
        "SAD",
    )
    assert sad.location.line == 38 and sad.location.field == "diagnostics[0]"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("7.0e9", 7.0e9),
        ("8.4e23", 8.4e23),
        ("1e21", 1e21),
        ("7000000000", 7000000000),
        ("1.5E+3", 1500.0),
    ],
)
def test_yaml_numbers_mean_what_a_lab_expects(written, expected):
    imported = import_filing("f.yaml", f"{FILING_HEAD}  parameters: {written}\n".encode())
    value = imported.fields["model.parameters"]
    assert value == expected and not isinstance(value, str)


def test_json_filing_is_validated_the_same_way():
    document = {
        "filing_schema": "govportal/filing/1",
        "model": {"name": "A", "version": "1", "developer": "L", "parameters": 7e9},
        "training": {"rl_horizon_steps": -1},
    }
    errors = errors_of("f.json", json.dumps(document))
    assert [e.location.field for e in errors] == ["training.rl_horizon_steps"]
    assert errors[0].location.line is None


def test_every_error_is_reported_at_once_with_path_and_line():
    text = (
        FILING_HEAD
        + "  architecture: transfomer\n"
        + "  colour: red\n"
        + "training:\n  rl_horizon_steps: -4\n  human_data: yes\n"
    )
    errors = errors_of("f.yaml", text)
    by_field = {e.location.field: e for e in errors}
    assert set(by_field) == {
        "model.architecture",
        "model.colour",
        "training.rl_horizon_steps",
        "training.human_data",
    }
    assert (
        "allowed values: transformer, mixture_of_experts" in by_field["model.architecture"].message
    )
    assert by_field["model.colour"].location.line == 7
    assert "unknown key model.colour" in by_field["model.colour"].message
    assert by_field["training.rl_horizon_steps"].location.line == 9
    assert "write true or false" in by_field["training.human_data"].message


def test_version_written_as_a_number_is_refused_with_a_hint():
    text = FILING_HEAD.replace('"2.1"', "2.1")
    [error] = errors_of("f.yaml", text)
    assert error.location.field == "model.version"
    assert 'quote it: "2.1"' in error.message


def test_required_model_fields_and_schema_id():
    errors = errors_of("f.yaml", "filing_schema: govportal/filing/2\nmodel:\n  name: A\n")
    messages = {e.location.field: e.message for e in errors}
    assert "must be 'govportal/filing/1'" in messages["filing_schema"]
    assert "required key model.version is missing" in messages["model.version"]
    assert "model.developer" in messages


def test_catalogue_range_depends_on_unit():
    text = FILING_HEAD + (
        "diagnostics:\n"
        "  - {metric: alignment_faking.compliance_gap, value: -40}\n"
        "  - {metric: sandbagging.accuracy_drop, value: 12.5}\n"
        "  - {metric: deception.defection_probe_auroc, value: 1.2}\n"
        "  - {metric: planning.lookahead_steps, value: 30}\n"
        "  - {metric: lab.custom_score, value: 740}\n"
    )
    [error] = errors_of("f.yaml", text)
    assert error.location.field == "diagnostics[2].value"
    assert error.location.line == 9
    assert "[0, 1]" in error.message


def test_interval_out_of_order_is_an_error():
    text = FILING_HEAD + (
        "diagnostics:\n  - {metric: eval_awareness.rate, value: 0.2, ci_low: 0.3, ci_high: 0.1}\n"
    )
    [error] = errors_of("f.yaml", text)
    assert error.location.field == "diagnostics[0].ci_low"


def test_supersedes_is_part_of_a_diagnostic():
    text = FILING_HEAD + (
        "diagnostics:\n  - {metric: eval_awareness.rate, value: 0.2, supersedes: old-run.csv}\n"
    )
    imported = import_filing("f.yaml", text.encode())
    assert imported.diagnostics[0].supersedes == "old-run.csv"


def test_evidence_is_kept_with_provenance():
    text = FILING_HEAD + "evidence:\n  - file: audit.pdf\n    description: Probe study\n"
    imported = import_filing("f.yaml", text.encode())
    assert imported.evidence == [{"file": "audit.pdf", "description": "Probe study"}]
    assert imported.provenance["evidence[audit.pdf]"].line == 7


def test_validate_filing_partial_accepts_a_draft_but_not_bad_values():
    validate_filing({"filing_schema": "govportal/filing/1"}, "facts", partial=True)
    validate_filing({"model": {"parameters": 1e9}}, "facts", partial=True)
    with pytest.raises(IntakeErrors) as caught:
        validate_filing({"model": {"scope": "everything"}}, "facts", partial=True)
    assert caught.value.errors[0].location.field == "model.scope"
    with pytest.raises(IntakeErrors):
        validate_filing({"model": {}}, "facts")


def test_check_metric_value_for_other_engineers():
    assert check_metric_value("eval_awareness.rate", 0.5) is None
    assert "out of range" in (check_metric_value("eval_awareness.rate", 1.01) or "")
    assert check_metric_value("alignment_faking.compliance_gap", -100) is None
    assert check_metric_value("not.in.catalogue", 1e6) is None
    assert "finite" in (check_metric_value("not.in.catalogue", float("nan")) or "")
    assert len(CATALOGUE) == 15
    assert CATALOGUE["deception.defection_probe_auroc"].riskier == "lower"
    assert CATALOGUE["planning.lookahead_steps"].unit == "steps"


def test_schema_enums_match_the_catalogue_of_filing_md():
    architecture = filing_schema()["properties"]["model"]["properties"]["architecture"]["enum"]
    assert architecture == [
        "transformer",
        "mixture_of_experts",
        "recurrent",
        "state_space",
        "convolutional",
        "hybrid",
        "other",
    ]


def test_import_file_detects_a_filing_without_its_extension():
    imported = import_file("upload.txt", sample("household-robot.filing.yaml"))
    assert imported.kind == "filing"
    assert imported.fields["deployment.autonomy"] == "autonomous_agent"
