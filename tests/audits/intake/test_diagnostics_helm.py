"""HELM run output: zipped run directories (run_spec.json with stats.json)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from audits.intake.diagnostics import detect, import_diagnostics, wilson_interval
from tests.audits.intake.diagnostics_helpers import FORMATS, error_of, zipped_directory

RUN = FORMATS / "helm-run"
ANATOMY = "helm.mmlu:subject=anatomy,method=multiple_choice_joint"


def test_zipped_run_directory() -> None:
    content = zipped_directory(RUN)
    assert detect("run.zip", content) == "helm"
    imported = import_diagnostics("run.zip", content)
    by_metric = {d.metric: d for d in imported.diagnostics}
    exact = by_metric[f"{ANATOMY}.exact_match@5shot"]
    assert (exact.value, exact.n) == (0.3, 10)
    assert exact.location.field == "v1/mmlu-anatomy/stats.json[3].mean"
    assert (exact.ci_low, exact.ci_high) == pytest.approx(wilson_interval(0.3, 10))
    tokens = by_metric[f"{ANATOMY}.num_prompt_tokens@5shot"]
    assert tokens.method == (
        "stderr from HELM's variance; normal 95% interval (value ± 1.96·stderr)"
    )
    assert imported.offered["model.name"]["value"] == "openai/gpt2"
    assert exact.notes == "model openai/gpt2; split test"
    # The valid split and the robustness perturbation are counted, not kept.
    (warning,) = imported.warnings
    assert warning.message.startswith("2 statistics of other splits")


def test_a_bare_stats_file_is_told_to_zip_the_run() -> None:
    stats = (RUN / "v1" / "mmlu-anatomy" / "stats.json").read_bytes()
    error = error_of(import_diagnostics, "stats.json", stats)
    assert "a HELM stats.json on its own" in error.message
    assert "zip the directory" in error.message


def test_stats_without_their_run_spec_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("runs/x/stats.json", json.dumps([]))
    error = error_of(import_diagnostics, "run.zip", buffer.getvalue())
    assert error.location.field == "runs/x/stats.json"
    assert "has stats.json but no run_spec.json" in error.message


def test_a_broken_stats_entry_names_the_entry_and_line() -> None:
    spec = (RUN / "v1" / "mmlu-anatomy" / "run_spec.json").read_text(encoding="utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("r/run_spec.json", spec)
        archive.writestr("r/stats.json", '[\n  {"name": {"name": "x"},\n')
    error = error_of(import_diagnostics, "run.zip", buffer.getvalue())
    assert (error.location.field, error.location.line) == ("r/stats.json", 3)
