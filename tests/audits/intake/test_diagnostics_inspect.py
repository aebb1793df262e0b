"""Inspect eval logs: the JSON format and the zipped `.eval` format."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from audits.intake.diagnostics import detect, import_diagnostics, wilson_interval
from tests.audits.intake.diagnostics_helpers import (
    INSPECT_GEMMA3,
    INSPECT_GPT4O_MINI,
    error_of,
    eval_zip_from_log,
)

EXPECTED = {
    INSPECT_GPT4O_MINI: {
        "metric": "inspect.input_task.model_graded_fact.accuracy",
        "suite": "inspect_ai 0.3.43.dev33+g6c96d92d",
        "notes": "model openai/gpt-4o-mini",
    },
    INSPECT_GEMMA3: {
        "metric": "inspect.popularity.match.accuracy",
        "suite": "inspect_ai 0.3.95.dev16+g6527d0861",
        "notes": "model ollama/gemma3",
    },
}


def _log(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda path: path.name)
def test_json_logs(path: Path) -> None:
    content = path.read_bytes()
    assert detect(path.name, content) == "inspect"
    imported = import_diagnostics(path.name, content)
    assert imported.kind == "inspect"
    assert imported.warnings == []
    # accuracy 1.0 with stderr 0.0 over the one completed sample: the stderr is not a
    # diagnostic of its own, and an accuracy with a known n gets Wilson's interval, which
    # (unlike 1.0 ± 0) says how little one sample shows.
    (diagnostic,) = imported.diagnostics
    low, _ = wilson_interval(1.0, 1)
    assert diagnostic.as_fact() == {
        **EXPECTED[path],
        "value": 1.0,
        "source": path.name,
        "ci_low": low,
        "ci_high": 1.0,
        "n": 1,
        "method": "Wilson score 95% interval for a proportion of 1 sample (reported stderr 0)",
    }
    assert low == pytest.approx(0.2065, abs=1e-4)
    # The evaluated model is offered as model.name; the merge uses it only when no input
    # names the model.
    assert imported.offered["model.name"]["value"] == EXPECTED[path]["notes"].split()[-1]
    assert diagnostic.model == EXPECTED[path]["notes"].split()[-1]
    assert diagnostic.location.field == "results.scores[0].metrics.accuracy.value"


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda path: path.name)
def test_eval_zip_gives_the_same_diagnostics_as_the_json(path: Path) -> None:
    content = eval_zip_from_log(_log(path))
    name = path.with_suffix(".eval").name
    assert detect(name, content) == "inspect"
    # Recognized by its entries too, whatever the upload was called.
    assert detect("upload.bin", content) == "inspect"
    from_zip = import_diagnostics(name, content)
    from_json = import_diagnostics(path.name, path.read_bytes())
    assert [d.as_fact() | {"source": None} for d in from_zip.diagnostics] == [
        d.as_fact() | {"source": None} for d in from_json.diagnostics
    ]
    assert from_zip.diagnostics[0].location.field == (
        "header.json:results.scores[0].metrics.accuracy.value"
    )


def test_eval_zip_reads_only_the_header() -> None:
    # A corrupt sample entry (bad CRC) does not matter: samples are never inflated.
    content = bytearray(eval_zip_from_log(_log(INSPECT_GEMMA3)))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        sample = archive.getinfo("samples/1_epoch_1.json")
    data_start = sample.header_offset + 30 + len(sample.filename.encode())
    content[data_start + 10] ^= 0xFF
    imported = import_diagnostics("gemma.eval", bytes(content))
    assert imported.diagnostics[0].metric == "inspect.popularity.match.accuracy"


def _score(name: str, metrics: dict[str, float], scorer: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "scorer": scorer or name,
        "params": {},
        "metrics": {
            key: {"name": f"inspect_ai/{key}", "value": value, "params": {}}
            for key, value in metrics.items()
        },
    }


def _synthetic_log(task: str, scores: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    log = copy.deepcopy(_log(INSPECT_GEMMA3))
    log["eval"]["task"] = task
    log["results"]["scores"] = scores
    log["results"]["total_samples"] = 120
    log["results"]["completed_samples"] = 120
    log.pop("samples")
    log.update(overrides)
    return log


def test_catalogue_task_maps_through_the_default_aliases() -> None:
    log = _synthetic_log(
        "inspect_evals/sad_stages_oversight",
        [_score("lenient_mcq_choice", {"accuracy": 0.62, "stderr": 0.04})],
    )
    imported = import_diagnostics("sad.json", json.dumps(log).encode())
    (diagnostic,) = imported.diagnostics
    assert diagnostic.metric == "situational_awareness.stages_oversight"
    assert diagnostic.value == 0.62 and diagnostic.n == 120
    # An accuracy over a known number of samples: Wilson's interval, not value ± 1.96·stderr.
    assert (diagnostic.ci_low, diagnostic.ci_high) == pytest.approx(wilson_interval(0.62, 120))
    assert diagnostic.notes == (
        "reported as inspect.sad_stages_oversight.lenient_mcq_choice.accuracy, mapped by "
        "alias 'inspect:sad_stages_oversight/*/accuracy'; model ollama/gemma3"
    )


def test_scorer_with_several_values_and_metrics() -> None:
    log = _synthetic_log(
        "agentic_misalignment",
        [
            _score("harmful", {"accuracy": 0.3, "stderr": 0.05}, scorer="harmfulness_scorer"),
            _score("classifier_verdict", {"accuracy": 0.35}, scorer="harmfulness_scorer"),
            _score("eval_awareness_scorer", {"mean": 0.2, "std": 0.4, "stderr": 0.03}),
        ],
    )
    imported = import_diagnostics("am.json", json.dumps(log).encode())
    by_metric = {d.metric: d for d in imported.diagnostics}
    assert sorted(by_metric) == [
        "eval_awareness.rate",
        "inspect.agentic_misalignment.classifier_verdict.accuracy",
        "inspect.agentic_misalignment.eval_awareness_scorer.std",
        "inspect.agentic_misalignment.harmful.accuracy",
    ]
    harmful = by_metric["inspect.agentic_misalignment.harmful.accuracy"]
    assert (harmful.ci_low, harmful.ci_high) == pytest.approx(wilson_interval(0.3, 120))
    assert by_metric["eval_awareness.rate"].ci_low == pytest.approx(0.2 - 1.959964 * 0.03, abs=1e-6)
    assert by_metric["inspect.agentic_misalignment.eval_awareness_scorer.std"].ci_low is None


def test_unfinished_status_with_results_is_a_warning() -> None:
    log = _synthetic_log("popularity", [_score("match", {"accuracy": 0.5})], status="cancelled")
    log["results"]["completed_samples"] = 60
    imported = import_diagnostics("cancelled.json", json.dumps(log).encode())
    assert imported.diagnostics[0].n == 60
    messages = [w.message for w in imported.warnings]
    assert any("status is 'cancelled'" in message for message in messages)
    assert "only 60 of 120 samples completed" in messages


def test_started_log_without_results_is_refused() -> None:
    log = _synthetic_log("popularity", [], status="started")
    del log["results"]
    error = error_of(import_diagnostics, "started.json", json.dumps(log).encode())
    assert error.location.field == "results"
    assert "has no results (status 'started')" in error.message


def test_unfinished_eval_zip_is_refused() -> None:
    content = eval_zip_from_log(_log(INSPECT_GEMMA3), finished=False)
    error = error_of(import_diagnostics, "running.eval", content)
    assert error.location.field == "header.json"
    assert "the .eval log is unfinished" in error.message


def test_version_1_log_layout() -> None:
    log = _synthetic_log("popularity", [])
    log["version"] = 1
    log["results"] = {
        "scorer": {"name": "match", "params": {}},
        "metrics": {"accuracy": {"name": "accuracy", "value": 0.75}},
    }
    (diagnostic,) = import_diagnostics("v1.json", json.dumps(log).encode()).diagnostics
    assert (diagnostic.metric, diagnostic.value) == ("inspect.popularity.match.accuracy", 0.75)
    assert diagnostic.location.field == "results.metrics.accuracy.value"


def test_version_1_bootstrap_std_is_the_standard_error_not_a_metric() -> None:
    log = _synthetic_log("popularity", [])
    log["version"] = 1
    log["results"] = {
        "scorer": {"name": "match", "params": {}},
        "metrics": {
            "mean": {"name": "mean", "value": 4.2},
            "bootstrap_std": {"name": "bootstrap_std", "value": 0.3},
        },
    }
    imported = import_diagnostics("v1.json", json.dumps(log).encode())
    (diagnostic,) = imported.diagnostics
    assert diagnostic.metric == "inspect.popularity.match.mean"
    assert (diagnostic.ci_low, diagnostic.ci_high) == pytest.approx(
        (4.2 - 1.959964 * 0.3, 4.2 + 1.959964 * 0.3), abs=1e-6
    )
    assert imported.warnings == []


def test_errored_run_with_results_is_kept_with_its_warning() -> None:
    log = _synthetic_log(
        "popularity",
        [_score("match", {"accuracy": 0.5})],
        status="error",
        error={"message": "RateLimitError: too many requests\ntraceback...", "traceback": ""},
    )
    log["results"]["completed_samples"] = 40
    imported = import_diagnostics("errored.json", json.dumps(log).encode())
    assert imported.diagnostics[0].n == 40
    (status,) = [w for w in imported.warnings if w.location.field == "status"]
    assert "status is 'error' (RateLimitError: too many requests)" in status.message
    assert "cover only the samples that completed" in status.message


def test_few_shot_task_argument_is_part_of_the_name() -> None:
    log = _synthetic_log("mmlu", [_score("choice", {"accuracy": 0.7})])
    log["eval"]["task_args"] = {"fewshot": 5}
    (diagnostic,) = import_diagnostics("mmlu.json", json.dumps(log).encode()).diagnostics
    assert diagnostic.metric == "inspect.mmlu.choice.accuracy@5shot"
