"""Inspect eval logs: `.json` logs and zipped `.eval` logs (their `header.json`), EvalLog
versions 1 and 2.

Every metric of every score becomes `inspect.<task>.<score>.<metric>` (with `@<k>shot`
when the task arguments state a few-shot count); a score's `stderr` (`bootstrap_std` in
version 1 logs, which is the standard error too) is the 95% interval of its mean, never a
metric of its own. The evaluated model (`eval.model`) is offered as `model.name`. A run
that was cancelled, or ended in an error after scoring some samples, is kept with a
warning that its metrics cover only the samples that completed; an error without results
is refused.
"""

from __future__ import annotations

from typing import Any

from audits.intake.diagnostics import archives
from audits.intake.diagnostics.common import (
    KIND_INSPECT,
    Budget,
    Found,
    json_object,
    number,
    offer_model,
    parse_shots,
    shown,
    with_shots,
)
from audits.intake.diagnostics.intervals import stderr_interval
from audits.intake.types import Diagnostic, Imported, IntakeError, Location

PREFIXES = ("inspect_ai/", "inspect_evals/")
STDERR_NAMES = ("stderr", "bootstrap_std")
SHOT_ARGUMENTS = ("fewshot", "num_fewshot", "n_shot", "num_shots", "shots")
WHAT = "an Inspect .eval log"


def import_inspect(
    imported: Imported, content: bytes, document: Any, budget: Budget
) -> list[Found]:
    if document is not None:
        return _log(imported, document, prefix="", budget=budget)
    header = _eval_header(imported.source, content)
    return _log(imported, header, prefix="header.json:", budget=budget)


def strip_prefix(name: str) -> str:
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _eval_header(source: str, content: bytes) -> dict[str, Any]:
    """The header of a zipped Inspect log (the one entry with the results)."""
    if not archives.is_zip(content):
        raise IntakeError(
            "not a zip archive: an Inspect .eval log is a zip file; upload the .eval file "
            "exactly as Inspect wrote it, or the .json log",
            file=source,
        )
    with archives.open_checked(source, content, what=WHAT) as archive:
        names = {entry.filename: entry for entry in archive.infolist()}
        if "header.json" in names:
            header = archives.read_json_entry(source, archive, names["header.json"])
        elif "_journal/start.json" in names:
            raise IntakeError(
                "the .eval log is unfinished: it has _journal/start.json but no header.json "
                "with results; upload the log once the evaluation has finished",
                file=source,
                field="header.json",
            )
        else:
            raise IntakeError(
                "a zip archive without header.json or _journal/start.json is not an Inspect "
                ".eval log",
                file=source,
            )
    if not isinstance(header, dict):
        raise IntakeError("header.json is not a JSON object", file=source, field="header.json")
    return header


def _log(imported: Imported, log: dict[str, Any], *, prefix: str, budget: Budget) -> list[Found]:
    source = imported.source
    spec = json_object(log.get("eval"))
    status = log.get("status")
    task_raw = spec.get("task")
    if not isinstance(task_raw, str) or not task_raw:
        raise IntakeError(
            "the Inspect log names no task (eval.task)", file=source, field=f"{prefix}eval.task"
        )
    task = strip_prefix(task_raw)
    results = log.get("results")
    error_message = _error_message(log)
    if status == "error" and not isinstance(results, dict):
        raise IntakeError(
            f"the evaluation {task_raw} ended with an error ({error_message}) and has no "
            "results; fix the run and upload the log of a successful one",
            file=source,
            field=f"{prefix}status",
        )
    if not isinstance(results, dict):
        raise IntakeError(
            f"the Inspect log has no results (status {status!r}): the evaluation did not "
            "finish; upload the log of a finished run",
            file=source,
            field=f"{prefix}results",
        )
    if status != "success":
        cause = f" ({error_message})" if status == "error" else ""
        imported.warn(
            f"the Inspect log's status is {status!r}{cause}, not 'success': its metrics cover "
            "only the samples that completed",
            Location(source, field=f"{prefix}status"),
            kind="inspect_status",
        )
    packages = json_object(spec.get("packages"))
    version = packages.get("inspect_ai")
    suite = f"inspect_ai {version}" if isinstance(version, str) else "inspect_ai"
    model_raw = spec.get("model")
    model = offer_model(imported, model_raw, Location(source, field=f"{prefix}eval.model"))
    notes = f"model {model_raw}" if isinstance(model_raw, str) else None
    task_args = json_object(spec.get("task_args"))
    shots = next((parse_shots(task_args[key]) for key in SHOT_ARGUMENTS if key in task_args), None)
    completed, total = results.get("completed_samples"), results.get("total_samples")
    n = completed if isinstance(completed, int) and not isinstance(completed, bool) else None
    if n is not None and isinstance(total, int) and n < total:
        imported.warn(
            f"only {n} of {total} samples completed",
            Location(source, field=f"{prefix}results.completed_samples"),
        )
    scores = results.get("scores")
    if scores is None and isinstance(results.get("metrics"), dict):
        # EvalLog version 1 had a single scorer next to its metrics.
        scorer = json_object(results.get("scorer"))
        scores = [{"name": scorer.get("name"), "metrics": results["metrics"]}]
        score_path = f"{prefix}results"
    else:
        score_path = f"{prefix}results.scores"
    if not isinstance(scores, list):
        raise IntakeError(
            "the Inspect log's results have no scores list", file=source, field=score_path
        )
    context = _Context(imported, task, n, suite, notes, model, shots)
    found: list[Found] = []
    for index, score in enumerate(scores):
        budget.check("reading the scores", field=score_path)
        path = f"{score_path}[{index}]" if score_path.endswith("scores") else score_path
        if not isinstance(score, dict):
            imported.warn("a score that is not an object; skipped", Location(source, field=path))
            continue
        found.extend(_score(context, score, path=path))
    if not found:
        raise IntakeError(
            "the Inspect log reports no numeric metric", file=source, field=score_path
        )
    return found


def _error_message(log: dict[str, Any]) -> str:
    error = json_object(log.get("error"))
    lines = str(error.get("message") or "no message").strip().splitlines() or ["no message"]
    return lines[0][:200]


class _Context:
    """What every metric of one log shares."""

    def __init__(
        self,
        imported: Imported,
        task: str,
        n: int | None,
        suite: str,
        notes: str | None,
        model: str | None,
        shots: int | None,
    ) -> None:
        self.imported, self.task, self.n, self.suite = imported, task, n, suite
        self.notes, self.model, self.shots = notes, model, shots


def _score(context: _Context, score: dict[str, Any], *, path: str) -> list[Found]:
    imported = context.imported
    source = imported.source
    score_name = strip_prefix(str(score.get("name") or score.get("scorer") or "score"))
    metrics = score.get("metrics")
    if not isinstance(metrics, dict):
        imported.warn("a score without metrics; skipped", Location(source, field=path))
        return []
    values: dict[str, tuple[float, str]] = {}
    for key, entry in metrics.items():
        field = f"{path}.metrics.{key}.value"
        raw = entry.get("value") if isinstance(entry, dict) else entry
        name = strip_prefix(str(entry.get("name") or key) if isinstance(entry, dict) else key)
        if isinstance(raw, dict):  # a metric reporting several values, e.g. per group
            for sub_key, sub_raw in raw.items():
                _value(imported, values, f"{name}.{sub_key}", sub_raw, f"{field}.{sub_key}")
        else:
            _value(imported, values, name, raw, field)
    stderr = next((values.pop(name) for name in STDERR_NAMES if name in values), None)
    for name in STDERR_NAMES:
        values.pop(name, None)
    target = _stderr_target(values) if stderr is not None else None
    found: list[Found] = []
    for name, (value, field) in values.items():
        diagnostic = Diagnostic(
            metric=with_shots(f"inspect.{context.task}.{score_name}.{name}", context.shots),
            value=value,
            location=Location(source, field=field),
            n=context.n,
            suite=context.suite,
            notes=context.notes,
            model=context.model,
        )
        if stderr is not None and name == target and stderr[0] >= 0:
            stderr_interval(diagnostic, stderr[0], name=name)
        found.append(
            Found(
                diagnostic,
                KIND_INSPECT,
                with_shots(f"{context.task}/{score_name}/{name}", context.shots),
                computed_interval=diagnostic.method is not None,
            )
        )
    if stderr is not None and target is None:
        imported.warn(
            "a standard error with no single metric to attach to; not kept",
            Location(source, field=stderr[1]),
        )
    return found


def _value(
    imported: Imported, values: dict[str, tuple[float, str]], name: str, raw: Any, field: str
) -> None:
    value = number(raw)
    if value is None:
        imported.warn(
            f"metric {name} is {shown(raw)}, not a finite number; skipped",
            Location(imported.source, field=field),
            kind="not_a_number",
        )
        return
    values[name] = (value, field)


def _stderr_target(values: dict[str, tuple[float, str]]) -> str | None:
    """The metric a score's stderr belongs to: the mean it is the standard error of."""
    for name in ("accuracy", "mean"):
        if name in values:
            return name
    candidates = [name for name in values if name not in ("std", "var")]
    return candidates[0] if len(candidates) == 1 else None
