"""Normalization: all inputs of a submission revision merged into one facts document.

Rules (FILING.md, issue 3):
- a fact no input supplied is missing, never defaulted;
- the same fact from two inputs with different values is an error naming both; equal
  values are fine and the provenance keeps the first with the others noted (`also`);
- the same metric from two inputs with different values is an error naming both, unless
  one entry `supersedes` the other's source file (or that file is in `superseded`);
- a model-card benchmark claim (`hf.*` from a model-index) that an uploaded evaluation
  (lm-evaluation-harness, Inspect) contradicts for the same task and metric is a warning;
- the merged document validates against filing schema v1, except that the required model
  name/version/developer may be missing in a draft (they are listed in `missing`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from audits.canonical import sha256_hex
from audits.intake.filing import (
    FILING_SCHEMA_ID,
    REQUIRED_MODEL_FIELDS,
    schema_leaf_paths,
    validate_filing,
)
from audits.intake.types import (
    Diagnostic,
    Imported,
    IntakeError,
    IntakeErrors,
    IntakeWarning,
    Location,
    NarrativeSection,
)

FACTS_SOURCE = "facts"
EVALUATION_KINDS = frozenset({"lm_eval", "inspect"})
# Two reports of one benchmark score differ "materially" above one percentage point.
CONTRADICTION_TOLERANCE = 0.01

# Hugging Face model-index dataset (type, config) -> the lm-evaluation-harness task name,
# where the names differ; other datasets use their last path segment (`cais/mmlu` -> mmlu).
HF_DATASET_TASKS: dict[tuple[str, str | None], str] = {
    ("ai2_arc", "ARC-Challenge"): "arc_challenge",
    ("ai2_arc", "ARC-Easy"): "arc_easy",
    ("truthful_qa", "multiple_choice"): "truthfulqa_mc2",
    ("lambada", None): "lambada_openai",
}
# model-index metric types -> lm-eval metric names, where they differ.
HF_METRIC_NAMES: dict[tuple[str, str], str] = {("truthfulqa_mc2", "mc2"): "acc"}
_METRIC_SYNONYMS = {"accuracy": "acc"}


@dataclass
class Facts:
    """The merged facts of one submission revision, ready for the rubric and the report."""

    document: dict[str, Any]
    provenance: dict[str, dict[str, Any]]
    warnings: list[IntakeWarning]
    narrative: list[NarrativeSection]
    missing: list[str]
    sha256: str
    # Facts that are not filing fields (card license, datasets, ...), per source file.
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what `manage.py facts --format json` prints)."""
        return {
            "document": self.document,
            "sha256": self.sha256,
            "provenance": self.provenance,
            "missing": self.missing,
            "warnings": [warning.as_dict() for warning in self.warnings],
            "narrative": [
                {"title": s.title, "markdown": s.markdown, **s.location.as_dict()}
                for s in self.narrative
            ],
            "metadata": self.metadata,
        }


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, list) and isinstance(right, list):
        return sorted(map(repr, left)) == sorted(map(repr, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)


def _describe(location: Location) -> str:
    return str(location)


def _merge_fields(
    imports: list[Imported],
    provenance: dict[str, dict[str, Any]],
    metadata: dict[str, dict[str, Any]],
    errors: list[IntakeError],
) -> dict[str, Any]:
    leaves = set(schema_leaf_paths())
    values: dict[str, Any] = {}
    first_seen: dict[str, Location] = {}
    for imported in imports:
        for path, value in imported.fields.items():
            location = imported.provenance.get(path) or Location(file=imported.source)
            if path not in leaves:
                metadata.setdefault(imported.source, {})[path] = value
                continue
            if path not in values:
                values[path] = value
                first_seen[path] = location
                provenance[path] = location.as_dict()
                continue
            if _same(values[path], value):
                provenance[path].setdefault("also", []).append(location.as_dict())
                continue
            errors.append(
                IntakeError(
                    f"{path} is {values[path]!r} in {_describe(first_seen[path])} but "
                    f"{value!r} in {_describe(location)}; correct one of them so they agree",
                    file=location.file,
                    line=location.line,
                    field=path,
                )
            )
    return values


def _merge_diagnostics(
    imports: list[Imported],
    superseded: Iterable[str],
    provenance: dict[str, dict[str, Any]],
    errors: list[IntakeError],
) -> list[Diagnostic]:
    by_metric: dict[str, list[Diagnostic]] = {}
    for imported in imports:
        for diagnostic in imported.diagnostics:
            by_metric.setdefault(diagnostic.metric, []).append(diagnostic)
    dropped_sources = set(superseded)
    kept: list[Diagnostic] = []
    for metric in sorted(by_metric):
        entries = by_metric[metric]
        replaced = {d.supersedes for d in entries if d.supersedes} | dropped_sources
        live = [d for d in entries if d.source not in replaced] or entries[-1:]
        first = live[0]
        conflict = next((d for d in live[1:] if d.value != first.value), None)
        if conflict is not None:
            errors.append(
                IntakeError(
                    f"metric {metric} is {first.value!r} in {_describe(first.location)} but "
                    f"{conflict.value!r} in {_describe(conflict.location)}; remove one, or "
                    f"mark the newer entry with `supersedes: {first.source}`",
                    file=conflict.location.file,
                    line=conflict.location.line,
                    field=conflict.location.field,
                )
            )
            continue
        kept.append(first)
        entry = first.location.as_dict()
        others = [d.location.as_dict() for d in live[1:]]
        if others:
            entry["also"] = others
        gone = [d.location.as_dict() for d in entries if d not in live]
        if gone:
            entry["superseded"] = gone
        provenance[f"diagnostics[{metric}]"] = entry
    return kept


def _benchmark_from_hf(diagnostic: Diagnostic) -> tuple[str, str] | None:
    """`hf.<task>.<dataset>[:<config>].<metric>` -> (lm-eval task, metric), or None."""
    match = re.fullmatch(r"hf\.[^.]+\.(?P<dataset>.+)\.(?P<metric>[^.]+)", diagnostic.metric)
    if not match:
        return None
    dataset, _, config = match["dataset"].partition(":")
    dataset_id = dataset.rsplit("/", 1)[-1]
    task = HF_DATASET_TASKS.get((dataset_id, config or None)) or HF_DATASET_TASKS.get(
        (dataset_id, None), dataset_id.lower().replace("-", "_")
    )
    metric = _METRIC_SYNONYMS.get(match["metric"].lower(), match["metric"].lower())
    return task, HF_METRIC_NAMES.get((task, metric), metric)


def _benchmark_from_evaluation(metric_id: str) -> tuple[str, str] | None:
    """An lm-eval/Inspect diagnostic name -> (task, metric).

    The diagnostics importers name them `lm_eval.<task>.<metric>[.<filter>]` and
    `inspect.<task>.<score>.<metric>`; the alias file's `lm_eval:<task>/<metric>` keys are
    read too, since an aliased diagnostic keeps its original name in its notes.
    """
    match = re.fullmatch(r"(?P<tool>lm_eval|inspect)[:.](?P<rest>.+)", metric_id)
    if not match:
        return None
    rest = match["rest"]
    parts = rest.split("/") if ":" in metric_id.split(".", 1)[0] else rest.split(".")
    if len(parts) < 2:
        return None
    task = parts[0].lower()
    metric = (parts[1] if match["tool"] == "lm_eval" else parts[-1]).split(",", 1)[0].lower()
    return task, _METRIC_SYNONYMS.get(metric, metric)


def _contradictions(imports: list[Imported]) -> list[IntakeWarning]:
    measured: dict[tuple[str, str], Diagnostic] = {}
    for imported in imports:
        if imported.kind not in EVALUATION_KINDS:
            continue
        for diagnostic in imported.diagnostics:
            names = [diagnostic.metric]
            if diagnostic.notes:
                # An alias may have renamed it to a catalogue id; importers keep the
                # original name in the notes.
                names.extend(re.findall(r"(?:lm_eval|inspect)[.:][^\s,;']+", diagnostic.notes))
            for name in names:
                key = _benchmark_from_evaluation(name.rstrip(";,)"))
                if key is not None:
                    measured.setdefault(key, diagnostic)
    warnings: list[IntakeWarning] = []
    for imported in imports:
        if imported.kind != "hf_model_card":
            continue
        for claim in imported.diagnostics:
            key = _benchmark_from_hf(claim)
            evaluation = measured.get(key) if key else None
            if evaluation is None:
                continue
            claimed = claim.value
            if claimed > 1 >= abs(evaluation.value):
                claimed /= 100  # leaderboards report percentages, harnesses fractions
            if abs(claimed - evaluation.value) > CONTRADICTION_TOLERANCE:
                warnings.append(
                    IntakeWarning(
                        message=(
                            f"the model card claims {claim.metric} = {claim.value!r} "
                            f"({_describe(claim.location)}) but the uploaded evaluation "
                            f"reports {evaluation.metric} = {evaluation.value!r} "
                            f"({_describe(evaluation.location)}) for the same task and "
                            "metric; the reviewer should ask which one is right"
                        ),
                        location=claim.location,
                    )
                )
    return warnings


def _merge_evidence(
    imports: list[Imported],
    provenance: dict[str, dict[str, Any]],
    warnings: list[IntakeWarning],
) -> list[dict[str, Any]]:
    evidence: dict[str, dict[str, Any]] = {}
    for imported in imports:
        for item in imported.evidence:
            name = item["file"]
            key = f"evidence[{name}]"
            location = imported.provenance.get(key) or Location(file=imported.source)
            if name not in evidence:
                evidence[name] = {k: v for k, v in item.items() if k in ("file", "description")}
                provenance[key] = location.as_dict()
            elif item.get("description") != evidence[name].get("description"):
                warnings.append(
                    IntakeWarning(
                        f"evidence {name} is described twice differently; the first "
                        f"description ({provenance[key]['file']}) is kept",
                        location,
                    )
                )
    return [evidence[name] for name in sorted(evidence)]


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"filing_schema": FILING_SCHEMA_ID}
    for path in schema_leaf_paths():
        if path in values:
            section, name = path.split(".", 1)
            document.setdefault(section, {})[name] = values[path]
    return document


def _locate(
    error: IntakeError, document: dict[str, Any], provenance: dict[str, Any]
) -> IntakeError:
    """Point a validation error on the merged document at the input the value came from."""
    path = error.location.field or ""
    key = path
    match = re.match(r"diagnostics\[(\d+)\]", path)
    if match:
        key = f"diagnostics[{document['diagnostics'][int(match[1])]['metric']}]"
    origin = provenance.get(key)
    if origin is None:
        return error
    return IntakeError(error.message, file=origin["file"], line=origin.get("line"), field=path)


def merge(imports: list[Imported], *, superseded: Iterable[str] = frozenset()) -> Facts:
    """Merge the imports of one submission revision into facts (see the module docstring).

    Raises IntakeErrors listing every conflict (fact or metric) with both sources, or any
    value that breaks filing schema v1, located at the input it came from.
    """
    errors: list[IntakeError] = []
    provenance: dict[str, dict[str, Any]] = {}
    metadata: dict[str, dict[str, Any]] = {}
    values = _merge_fields(imports, provenance, metadata, errors)
    diagnostics = _merge_diagnostics(imports, superseded, provenance, errors)
    if errors:
        raise IntakeErrors(errors)

    warnings: list[IntakeWarning] = [w for imported in imports for w in imported.warnings]
    warnings.extend(_contradictions(imports))
    document = _nest(values)
    if diagnostics:
        document["diagnostics"] = [d.as_fact() for d in diagnostics]
    evidence = _merge_evidence(imports, provenance, warnings)
    if evidence:
        document["evidence"] = evidence
    try:
        validate_filing(document, FACTS_SOURCE, partial=True)
    except IntakeErrors as invalid:
        raise IntakeErrors(
            [_locate(error, document, provenance) for error in invalid.errors]
        ) from None

    missing = [path for path in schema_leaf_paths() if path not in values]
    for path in REQUIRED_MODEL_FIELDS:
        if path in missing:
            warnings.append(
                IntakeWarning(
                    f"{path} is required for a complete filing and no input supplies it",
                    Location(file=FACTS_SOURCE, field=path),
                )
            )
    return Facts(
        document=document,
        provenance=provenance,
        warnings=warnings,
        narrative=[section for imported in imports for section in imported.narrative],
        missing=missing,
        sha256=sha256_hex(document),
        metadata=metadata,
    )
