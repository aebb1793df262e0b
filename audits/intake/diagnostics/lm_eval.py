"""lm-evaluation-harness results JSON (v0.3 and every v0.4 layout).

Every reported metric becomes `lm_eval.<task>.<metric>[.<filter>]@<k>shot`: the v0.4
`<metric>,<filter>` key with the "none" filter dropped, and the few-shot count from
`n-shot` (v0.4) or `config.num_fewshot` (v0.3) when the file states it. `<metric>_stderr`
becomes the metric's 95% interval. Bookkeeping keys (`alias`, `name`, `sample_len`,
`sample_count`, `samples`) are never metrics: the sample counts give `n` — per metric from
`sample_count`, else `sample_len`/`samples`, else `n-samples` (effective, else original),
and for a group row without one, the sum over its subtasks (`group_subtasks`).
The evaluated model (`model_name`, else `config.model_args` pretrained=...) is offered as
`model.name` and named in each diagnostic's notes.
"""

from __future__ import annotations

from typing import Any

from audits.intake.diagnostics.common import (
    KIND_LM_EVAL,
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

BOOKKEEPING_KEYS = frozenset({"alias", "name", "sample_len", "sample_count", "samples"})
_V04_KEYS = ("configs", "n-samples", "higher_is_better", "group_subtasks", "n-shot")


def import_lm_eval(imported: Imported, document: dict[str, Any], budget: Budget) -> list[Found]:
    source = imported.source
    results: dict[str, Any] = document["results"]
    is_v04 = any(key in document for key in _V04_KEYS) or any(
        "," in str(key) for metrics in results.values() for key in metrics
    )
    version = document.get("lm_eval_version")
    if not isinstance(version, str) or not version.strip():
        version = "0.4" if is_v04 else "0.3"
    suite = f"lm-evaluation-harness {version}"
    model = _evaluated_model(imported, document)
    sections = [("results", results)]
    groups = document.get("groups")
    if isinstance(groups, dict):  # v0.4.0-0.4.2 repeat group scores here
        sections.append(("groups", {k: v for k, v in groups.items() if k not in results}))
    every_task = {str(k): v for _, tasks in sections for k, v in tasks.items()}
    counts = _SampleCounts(document, every_task)
    shots = _shots(document, every_task)
    found: list[Found] = []
    for section, tasks in sections:
        for task, metrics in tasks.items():
            budget.check("reading the results", field=f"{section}.{task}")
            if not isinstance(metrics, dict):
                imported.warn(
                    f"task {task} has no metrics object; skipped",
                    Location(source, field=f"{section}.{task}"),
                    kind="task_without_metrics",
                )
                continue
            found.extend(
                _task(
                    imported,
                    section=section,
                    task=str(task),
                    metrics=metrics,
                    suite=suite,
                    counts=counts,
                    shots=shots.get(str(task)),
                    model=model,
                )
            )
    if not found:
        raise IntakeError(
            "the lm-evaluation-harness file reports no numeric metric", file=source, field="results"
        )
    return found


def _evaluated_model(imported: Imported, document: dict[str, Any]) -> str | None:
    source = imported.source
    name = document.get("model_name")
    if isinstance(name, str) and name.strip():
        return offer_model(imported, name, Location(source, field="model_name")) or name.strip()
    arguments = json_object(document.get("config")).get("model_args")
    if isinstance(arguments, str):
        parts = dict(part.split("=", 1) for part in arguments.split(",") if "=" in part)
        arguments = parts
    pretrained = json_object(arguments).get("pretrained")
    if not isinstance(pretrained, str) or not pretrained.strip():
        return None
    location = Location(source, field="config.model_args")
    return offer_model(imported, pretrained, location) or pretrained.strip()


def _shots(document: dict[str, Any], tasks: dict[str, Any]) -> dict[str, int]:
    """Each task's few-shot count, where the file states it (groups: their subtasks' one)."""
    n_shot = document.get("n-shot")
    if isinstance(n_shot, dict):
        found = {
            str(task): shots
            for task, value in n_shot.items()
            if (shots := parse_shots(value)) is not None
        }
        subtasks = json_object(document.get("group_subtasks"))
        for group in tasks:
            if group in found:
                continue
            leaves = _leaves(group, subtasks)
            values = {found.get(leaf) for leaf in leaves}
            if leaves and len(values) == 1 and None not in values:
                found[group] = values.pop()  # type: ignore[assignment]
        return found
    shots = parse_shots(json_object(document.get("config")).get("num_fewshot"))
    if shots is not None:  # v0.3: one count for the whole run
        return dict.fromkeys(tasks, shots)
    return {}


def _leaves(group: str, subtasks: dict[str, Any]) -> list[str]:
    """The tasks under `group`, through nested groups (without recursion)."""
    leaves: list[str] = []
    stack = list(subtasks.get(group) or [])
    seen: set[str] = set()
    while stack:
        task = str(stack.pop())
        if task in seen:
            continue
        seen.add(task)
        children = subtasks.get(task)
        if isinstance(children, list) and children:
            stack.extend(children)
        else:
            leaves.append(task)
    return leaves


class _SampleCounts:
    """The n of each task's metrics, from the bookkeeping the file carries."""

    def __init__(self, document: dict[str, Any], tasks: dict[str, Any]) -> None:
        self.tasks = tasks
        self.n_samples = json_object(document.get("n-samples"))
        self.subtasks = json_object(document.get("group_subtasks"))

    def of(self, task: str, key: str) -> int | None:
        metrics = json_object(self.tasks.get(task))
        per_metric = json_object(metrics.get("sample_count")).get(key)
        if count(per_metric) is not None:
            return count(per_metric)
        for name in ("sample_len", "samples"):
            if count(metrics.get(name)) is not None:
                return count(metrics.get(name))
        entry = json_object(self.n_samples.get(task))
        for name in ("effective", "original"):
            if count(entry.get(name)) is not None:
                return count(entry.get(name))
        leaves = _leaves(task, self.subtasks)
        sizes = [self.of(leaf, key) for leaf in leaves if leaf != task]
        if sizes and all(size is not None for size in sizes):
            return sum(size for size in sizes if size is not None)
        return None


def _task(
    imported: Imported,
    *,
    section: str,
    task: str,
    metrics: dict[str, Any],
    suite: str,
    counts: _SampleCounts,
    shots: int | None,
    model: str | None,
) -> list[Found]:
    source = imported.source
    reported: dict[str, tuple[Any, str, str]] = {}
    stderrs: dict[str, tuple[Any, str]] = {}
    for key, raw in metrics.items():
        key = str(key)
        if key in BOOKKEEPING_KEYS:
            continue
        # v0.4 keys are "<metric>,<filter>"; the "none" filter is the plain metric.
        metric, _, filter_name = key.partition(",")
        is_stderr = metric.endswith("_stderr")
        base = metric[: -len("_stderr")] if is_stderr else metric
        name = base if filter_name in ("", "none") else f"{base}.{filter_name}"
        field = f"{section}.{task}.{key}"
        if is_stderr:
            stderrs[name] = (raw, field)
        else:
            reported[name] = (raw, field, key)
    notes = f"model {model}" if model else None
    found: list[Found] = []
    for name, (raw, field, key) in reported.items():
        location = Location(source, field=field)
        metric_id = with_shots(f"lm_eval.{task}.{name}", shots)
        value = number(raw)
        if value is None:
            imported.warn(
                f"{metric_id} is {shown(raw)}, not a finite number; skipped",
                location,
                kind="not_a_number",
            )
            stderrs.pop(name, None)
            continue
        diagnostic = Diagnostic(
            metric=metric_id,
            value=value,
            location=location,
            n=counts.of(task, key),
            suite=suite,
            notes=notes,
            model=model,
        )
        if name in stderrs:
            stderr_raw, stderr_field = stderrs.pop(name)
            stderr = number(stderr_raw)
            if stderr is None or stderr < 0:
                imported.warn(
                    f"stderr of {metric_id} is {shown(stderr_raw)}; the value is kept without "
                    "an interval",
                    Location(source, field=stderr_field),
                    kind="missing_stderr",
                )
            else:
                stderr_interval(diagnostic, stderr, name=name)
        found.append(
            Found(
                diagnostic,
                KIND_LM_EVAL,
                with_shots(f"{task}/{name}", shots),
                computed_interval=diagnostic.method is not None,
            )
        )
    for name, (raw, field) in stderrs.items():
        # A stderr whose metric is absent is still something the file reported.
        value = number(raw)
        location = Location(source, field=field)
        metric_id = with_shots(f"lm_eval.{task}.{name}_stderr", shots)
        if value is None:
            imported.warn(
                f"{metric_id} is {shown(raw)}, not a finite number; skipped",
                location,
                kind="not_a_number",
            )
            continue
        imported.warn(
            f"stderr without its metric {name}; kept as its own diagnostic",
            location,
            kind="stderr_alone",
        )
        diagnostic = Diagnostic(
            metric=metric_id, value=value, location=location, suite=suite, notes=notes, model=model
        )
        found.append(Found(diagnostic, KIND_LM_EVAL, with_shots(f"{task}/{name}_stderr", shots)))
    return found
