"""HELM run output: a run directory (`run_spec.json` with `stats.json`), uploaded as a zip.

A zip may hold one run directory or several (a whole `benchmark_output/runs/<suite>/`);
each directory with a `stats.json` needs its `run_spec.json`, which names the run. Each
statistic of the run's main split (test, else valid, else the only one), without a
perturbation, becomes `helm.<run>.<statistic>@<k>shot`, where <run> is the run spec's
name without its `model=` argument (`mmlu:subject=anatomy,method=multiple_choice_joint`)
and k is `adapter_spec.max_train_instances`. `mean` is the value and `count` the n; the
95% interval comes from the per-instance variance (Wilson's for 0/1 statistics such as
exact_match). `adapter_spec.model` is offered as `model.name`. Statistics of other splits
and perturbations (robustness, fairness) are counted in one warning, not kept.
"""

from __future__ import annotations

import math
import zipfile
from typing import Any

from audits.intake.diagnostics import archives
from audits.intake.diagnostics.common import (
    KIND_HELM,
    Budget,
    Found,
    count,
    json_object,
    number,
    offer_model,
    parse_shots,
    with_shots,
)
from audits.intake.diagnostics.intervals import stderr_interval
from audits.intake.types import Diagnostic, Imported, IntakeError, Location

WHAT = "a zipped HELM run directory"
_SPLIT_PREFERENCE = ("test", "valid")


def import_helm(imported: Imported, content: bytes, document: Any, budget: Budget) -> list[Found]:
    source = imported.source
    if document is not None:  # a bare run_spec.json or stats.json
        name = "stats.json" if isinstance(document, list) else "run_spec.json"
        raise IntakeError(
            f"a HELM {name} on its own: the statistics and the run spec that names them "
            "are two files of one run directory; zip the directory (run_spec.json and "
            "stats.json, as helm-run wrote them) and upload the zip",
            file=source,
        )
    found: list[Found] = []
    with archives.open_checked(source, content, what=WHAT) as archive:
        entries = {entry.filename: entry for entry in archive.infolist()}
        runs = sorted(name[: -len("stats.json")] for name in entries if _is_stats(name))
        for directory in runs:
            budget.check("reading the runs", field=f"{directory}stats.json")
            spec_name = f"{directory}run_spec.json"
            if spec_name not in entries:
                raise IntakeError(
                    f"{directory or 'the archive'} has stats.json but no run_spec.json, which "
                    "names the run; zip the whole run directory",
                    file=source,
                    field=f"{directory}stats.json",
                )
            found.extend(_run(imported, archive, entries, directory))
    if not found:
        raise IntakeError("the HELM run reports no numeric statistic", file=source)
    return found


def _is_stats(name: str) -> bool:
    return name == "stats.json" or name.endswith("/stats.json")


def _run(
    imported: Imported,
    archive: zipfile.ZipFile,
    entries: dict[str, zipfile.ZipInfo],
    directory: str,
) -> list[Found]:
    source = imported.source
    spec_field = f"{directory}run_spec.json"
    spec = archives.read_json_entry(source, archive, entries[spec_field])
    stats = archives.read_json_entry(source, archive, entries[f"{directory}stats.json"])
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise IntakeError(
            "run_spec.json has no run name (`name`)", file=source, field=f"{spec_field}.name"
        )
    if not isinstance(stats, list):
        raise IntakeError(
            "stats.json is not a list of statistics", file=source, field=f"{directory}stats.json"
        )
    adapter = json_object(spec.get("adapter_spec"))
    run = _run_name(spec["name"])
    model = offer_model(
        imported, adapter.get("model"), Location(source, field=f"{spec_field}.adapter_spec.model")
    )
    shots = parse_shots(adapter.get("max_train_instances"))
    groups = spec.get("groups")
    suite = "HELM" + (
        f" ({', '.join(map(str, groups))})" if isinstance(groups, list) and groups else ""
    )
    split = _main_split(stats)
    found: list[Found] = []
    skipped = 0
    for index, stat in enumerate(stats):
        name = json_object(json_object(stat).get("name"))
        field = f"{directory}stats.json[{index}]"
        if name.get("split") != split or name.get("perturbation") or name.get("sub_split"):
            skipped += 1
            continue
        metric = name.get("name")
        value = number(json_object(stat).get("mean"))
        if not isinstance(metric, str) or not metric or value is None:
            skipped += 1
            continue
        n = count(stat.get("count"))
        diagnostic = Diagnostic(
            metric=with_shots(f"helm.{run}.{metric}", shots),
            value=value,
            location=Location(source, field=f"{field}.mean"),
            n=n,
            suite=suite,
            notes=f"model {adapter.get('model')}; split {split}" if model else f"split {split}",
            model=model,
        )
        variance = number(stat.get("variance"))
        if n is not None and n >= 2 and variance is not None and variance >= 0:
            # HELM's variance is the population one; n / (n - 1) makes it the sample's.
            stderr = math.sqrt(variance * n / (n - 1) / n)
            stderr_interval(diagnostic, stderr, name=metric, basis="stderr from HELM's variance")
        found.append(
            Found(
                diagnostic,
                KIND_HELM,
                with_shots(f"{run}/{metric}", shots),
                computed_interval=diagnostic.method is not None,
            )
        )
    if skipped:
        imported.warn(
            f"{skipped:,} statistics of other splits, sub-splits or perturbations (robustness, "
            f"fairness) were not kept; the diagnostics are the {split} split's",
            Location(source, field=f"{directory}stats.json"),
            kind="helm_other_splits",
        )
    return found


def _run_name(name: str) -> str:
    """The run spec's name without the model it ran on: the run is the measurement."""
    scenario, _, arguments = name.partition(":")
    kept = [
        argument
        for argument in arguments.split(",")
        if argument and not argument.startswith(("model=", "model_deployment="))
    ]
    return scenario + (":" + ",".join(kept) if kept else "")


def _main_split(stats: list[Any]) -> str | None:
    splits = {json_object(json_object(stat).get("name")).get("split") for stat in stats}
    for preferred in _SPLIT_PREFERENCE:
        if preferred in splits:
            return preferred
    return next(iter(splits)) if len(splits) == 1 else None
