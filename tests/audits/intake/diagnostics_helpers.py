"""Shared helpers for the diagnostics importer tests: data paths and `.eval` fixtures."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from audits.intake.types import IntakeError

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA = REPO_ROOT / "tests" / "data"
EVAL_RESULTS = DATA / "samples" / "eval_results"
BAD = DATA / "bad" / "diagnostics"

INSPECT_GPT4O_MINI = EVAL_RESULTS / "inspect_2024-11-05_input-task_gpt-4o-mini.json"
INSPECT_GEMMA3 = EVAL_RESULTS / "inspect_2025-07-05_popularity_ollama-gemma3.json"
LM_EVAL_V03 = EVAL_RESULTS / "lm-eval-v0.3_pythia-v1.1-160m_step143000_zero-shot.json"
LM_EVAL_V04 = EVAL_RESULTS / "lm-eval-v0.4.9.2_results_2025-12-17T20-24-58.json"


def eval_zip_from_log(log: dict[str, Any], *, finished: bool = True) -> bytes:
    """A `.eval` archive laid out as inspect_ai's EvalRecorder writes it, from a JSON log.

    header.json is the log without samples and reductions; _journal/start.json holds
    version, eval and plan; each sample and the summaries/reductions get their own entries.
    An unfinished log has only the journal and the samples.
    """
    samples = log.get("samples") or []
    header = {key: value for key, value in log.items() if key not in ("samples", "reductions")}
    start = {key: log[key] for key in ("version", "eval", "plan") if key in log}
    summaries = [
        {key: sample.get(key) for key in ("id", "epoch", "input", "target", "scores")}
        for sample in samples
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_journal/start.json", json.dumps(start, indent=2))
        for sample in samples:
            archive.writestr(
                f"samples/{sample['id']}_epoch_{sample['epoch']}.json", json.dumps(sample)
            )
        archive.writestr("_journal/summaries/1.json", json.dumps(summaries))
        if finished:
            archive.writestr("summaries.json", json.dumps(summaries))
            if log.get("reductions") is not None:
                archive.writestr("reductions.json", json.dumps(log["reductions"]))
            archive.writestr("header.json", json.dumps(header, indent=2))
    return buffer.getvalue()


def error_of(call: Any, *args: Any, **kwargs: Any) -> IntakeError:
    """Run `call` and return the IntakeError it raises (fail the test if it returns)."""
    try:
        call(*args, **kwargs)
    except IntakeError as exc:
        return exc
    raise AssertionError(f"{call.__name__} accepted the input")


FORMATS = DATA / "formats"


def zipped_directory(directory: Path) -> bytes:
    """The files under `directory` as a zip archive, paths relative to it (an upload)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()
