"""lighteval results JSON, as the Open LLM Leaderboard publishes them (`results_*.json`).

    {"config_general": {"model_name": ..., "lighteval_sha": ...},
     "results": {"harness|arc:challenge|25": {"acc": 0.55, "acc_stderr": 0.014, ...},
                 "all": {...}},
     "summary_tasks": {"harness|arc:challenge|25": {"truncated": 0, "non_truncated": 1172}}}

A result key is `<suite>|<task>|<few-shot count>`; each metric becomes
`lighteval.<suite>.<task>.<metric>@<k>shot` (alias key `lighteval:<suite>|<task>/<metric>
@<k>shot`), `<metric>_stderr` its 95% interval, and the task's examples (truncated +
non-truncated) its `n`. `all`, the mean over the file's tasks, is not a task and is not
kept. `config_general.model_name` is offered as `model.name`.
"""

from __future__ import annotations

from typing import Any

from audits.intake.diagnostics.common import (
    KIND_LIGHTEVAL,
    Budget,
    Found,
    count,
    json_object,
    number,
    offer_model,
    parse_shots,
    shown,
    with_shots,
)
from audits.intake.diagnostics.intervals import stderr_interval
from audits.intake.types import Diagnostic, Imported, IntakeError, Location

AVERAGE_KEY = "all"


def import_lighteval(imported: Imported, document: dict[str, Any], budget: Budget) -> list[Found]:
    source = imported.source
    config = json_object(document.get("config_general"))
    model = config.get("model_name")
    model_name = offer_model(imported, model, Location(source, field="config_general.model_name"))
    sha = config.get("lighteval_sha")
    suite_text = f"lighteval {sha[:7]}" if isinstance(sha, str) and sha else "lighteval"
    summaries = json_object(document.get("summary_tasks"))
    found: list[Found] = []
    for key, metrics in json_object(document.get("results")).items():
        key = str(key)
        if key == AVERAGE_KEY:
            continue
        budget.check("reading the results", field=f"results.{key}")
        field = f"results.{key}"
        if not isinstance(metrics, dict):
            imported.warn(
                f"result {key} has no metrics object; skipped",
                Location(source, field=field),
                kind="task_without_metrics",
            )
            continue
        suite, task, shots = _split_key(key)
        summary = json_object(summaries.get(key))
        examples = [count(summary.get(name)) for name in ("truncated", "non_truncated")]
        n = sum(c for c in examples if c is not None) if None not in examples else None
        values: dict[str, tuple[Any, str]] = {}
        stderrs: dict[str, tuple[Any, str]] = {}
        for metric, raw in metrics.items():
            metric = str(metric)
            target = stderrs if metric.endswith("_stderr") else values
            target[metric.removesuffix("_stderr")] = (raw, f"{field}.{metric}")
        for metric, (raw, metric_field) in values.items():
            metric_id = with_shots(f"lighteval.{suite}.{task}.{metric}", shots)
            value = number(raw)
            if value is None:
                imported.warn(
                    f"{metric_id} is {shown(raw)}, not a finite number; skipped",
                    Location(source, field=metric_field),
                    kind="not_a_number",
                )
                continue
            diagnostic = Diagnostic(
                metric=metric_id,
                value=value,
                location=Location(source, field=metric_field),
                n=n,
                suite=suite_text,
                notes=f"model {model_name or model}" if (model_name or model) else None,
                model=model_name,
            )
            stderr = number(stderrs.get(metric, (None, ""))[0])
            if stderr is not None and stderr >= 0:
                stderr_interval(diagnostic, stderr, name=metric)
            found.append(
                Found(
                    diagnostic,
                    KIND_LIGHTEVAL,
                    with_shots(f"{suite}|{task}/{metric}", shots),
                    computed_interval=diagnostic.method is not None,
                )
            )
    if not found:
        raise IntakeError(
            "the lighteval file reports no numeric metric", file=source, field="results"
        )
    return found


def _split_key(key: str) -> tuple[str, str, int | None]:
    """`harness|arc:challenge|25` -> ("harness", "arc:challenge", 25); a key without the
    count states no few-shot count, and one without a suite is in "custom"."""
    parts = key.split("|")
    if len(parts) >= 3 and parse_shots(parts[-1]) is not None:
        return parts[0], "|".join(parts[1:-1]), parse_shots(parts[-1])
    if len(parts) >= 2:
        return parts[0], "|".join(parts[1:]), None
    return "custom", key, None
