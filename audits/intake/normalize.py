"""Normalization: all inputs of a submission revision merged into one facts document.

Rules (FILING.md, issue 3):
- a fact no input supplied is missing, never defaulted;
- the same fact from two inputs with different values is an error naming both; equal
  values are fine and the provenance keeps the first with the others noted (`also`);
- the same metric from two inputs with different values is an error naming both, unless
  one entry `supersedes` the other's source file (or that file is in `superseded`);
- a model-card benchmark claim (`hf.*` from a model-index) that an uploaded evaluation
  (lm-evaluation-harness, lighteval, Inspect) contradicts for the same task, metric and
  few-shot count is a warning;
- a fact an evaluation log offers (`model.name`, from the model it evaluated) counts only
  when no input states the fact; when one does and names another model, that is a warning;
- card metadata (license, language, tags, datasets, pipeline_tag, library_name) and the
  lab's confidential marks are kept in `Facts.metadata`, outside the scored document and
  its hash;
- the merged document validates against filing schema v1, except that the required model
  name/version/developer may be missing in a draft (they are listed in `missing`);
- warnings are folded by kind and capped (`types.MAX_WARNINGS_PER_FACTS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from audits.canonical import sha256_hex
from audits.intake.catalogue import unscored_diagnostics
from audits.intake.diagnostics.common import RUN_KINDS, split_shots
from audits.intake.filing import (
    FILING_SCHEMA_ID,
    REQUIRED_MODEL_FIELDS,
    schema_leaf_paths,
    validate_filing,
)
from audits.intake.types import (
    MAX_WARNINGS_PER_FACTS,
    Diagnostic,
    Imported,
    IntakeError,
    IntakeErrors,
    IntakeWarning,
    Location,
    NarrativeSection,
    bounded_warnings,
    location_from,
)

FACTS_SOURCE = "facts"
# Evaluation files whose results a model card's benchmark claims can be checked against.
EVALUATION_KINDS = frozenset({"lm_eval", "lighteval", "inspect"})
# Card facts that are not filing facts: shown to the regulator, never scored or hashed.
# Cards of other formats carry equivalents under the same keys (docs/formats.md).
METADATA_KEYS = ("pipeline_tag", "license", "language", "tags", "datasets", "library_name")
CONFIDENTIAL_SECTIONS = "confidential_sections"
CONFIDENTIAL_EVIDENCE = "confidential_evidence"
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
# lighteval (task, metric) -> the lm-evaluation-harness (task, metric), where they differ.
LIGHTEVAL_TASKS: dict[tuple[str, str], tuple[str, str]] = {
    ("truthfulqa:mc", "mc2"): ("truthfulqa_mc2", "acc"),
    ("truthfulqa:mc", "mc1"): ("truthfulqa_mc1", "acc"),
}
_METRIC_SYNONYMS = {"accuracy": "acc"}


@dataclass
class Facts:
    """The merged facts of one submission revision, ready for the rubric and the report.

    `document` is what the rubric scores and `sha256` hashes. `metadata` maps a key to
    `{"value": ..., "source": {"file", "line", "field"}}` (and `"also"`: other sources that
    agree): card facts that are not filing facts (`METADATA_KEYS`), and the lab's
    confidential marks, `confidential_sections` (narrative section titles) and
    `confidential_evidence` (evidence file names), which the public report omits. None of it
    is scored or hashed. Narrative sections carry their own `confidential` flag too.
    """

    document: dict[str, Any]
    provenance: dict[str, dict[str, Any]]
    warnings: list[IntakeWarning]
    narrative: list[NarrativeSection]
    missing: list[str]
    sha256: str
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def confidential_sections(self) -> list[str]:
        """Titles of the narrative sections the lab marked confidential."""
        return list(self.metadata.get(CONFIDENTIAL_SECTIONS, {}).get("value", []))

    @property
    def confidential_evidence(self) -> list[str]:
        """File names of the evidence the lab marked confidential."""
        return list(self.metadata.get(CONFIDENTIAL_EVIDENCE, {}).get("value", []))

    def unscored(self) -> list[dict[str, Any]]:
        """The diagnostics read but not scored (not in the metric catalogue), located."""
        return unscored_diagnostics(self.document, self.provenance)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what `manage.py facts --format json` prints)."""
        return {
            "document": self.document,
            "sha256": self.sha256,
            "provenance": self.provenance,
            "missing": self.missing,
            "warnings": [warning.as_dict() for warning in self.warnings],
            "narrative": [section.as_dict() for section in self.narrative],
            "metadata": self.metadata,
            "unscored_diagnostics": self.unscored(),
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
    errors: list[IntakeError],
) -> dict[str, Any]:
    leaves = set(schema_leaf_paths())
    values: dict[str, Any] = {}
    first_seen: dict[str, Location] = {}
    for imported in imports:
        for path, value in imported.fields.items():
            if path not in leaves:
                continue  # `card.*` keys stored by earlier versions: see _legacy_metadata
            location = imported.provenance.get(path) or Location(file=imported.source)
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


def model_key(name: str) -> str:
    """A model name compared loosely: `openai/gpt-4o-mini` and `GPT-4o mini` are one model."""
    return re.sub(r"[^0-9a-z]", "", name.rsplit("/", 1)[-1].lower())


def _merge_offered(
    imports: list[Imported],
    values: dict[str, Any],
    provenance: dict[str, dict[str, Any]],
    warnings: list[IntakeWarning],
) -> None:
    """Let facts the evaluation logs offer fill what no input states (see the module)."""
    offers: dict[str, list[tuple[Any, Location]]] = {}
    for imported in imports:
        for path, entry in imported.offered.items():
            offers.setdefault(path, []).append((entry["value"], location_from(entry["source"])))
    for path, offered in offers.items():
        if path in values:
            stated = values[path]
            for value, location in offered:
                if model_key(str(value)) != model_key(str(stated)):
                    warnings.append(
                        IntakeWarning(
                            f"{location.file} is an evaluation of {value!r} ({location}), but "
                            f"{path} is {stated!r} ({_describe(location_from(provenance[path]))});"
                            " check that the evaluation is of the filed model",
                            location,
                            kind="evaluated_other_model",
                        )
                    )
            continue
        distinct = {model_key(str(value)): (value, location) for value, location in offered}
        if len(distinct) > 1:
            named = "; ".join(f"{value!r} in {location}" for value, location in distinct.values())
            warnings.append(
                IntakeWarning(
                    f"the evaluations are of different models ({named}), and no input states "
                    f"{path}; state it in the filing and keep only the runs of that model",
                    offered[0][1],
                    kind="evaluated_models_differ",
                )
            )
            continue
        value, location = offered[0]
        values[path] = value
        provenance[path] = location.as_dict()
        others = [place.as_dict() for _, place in offered[1:]]
        if others:
            provenance[path]["also"] = others


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
    kinds = {imported.source: imported.kind for imported in imports}
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
                    f"{conflict.value!r} in {_describe(conflict.location)}; "
                    + _conflict_advice(first, conflict, kinds),
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


def _conflict_advice(first: Diagnostic, other: Diagnostic, kinds: dict[str, str]) -> str:
    """How a lab resolves two values of one metric, in terms its files can carry."""
    if kinds.get(first.source) not in RUN_KINDS and kinds.get(other.source) not in RUN_KINDS:
        return f"remove one, or mark the newer entry with `supersedes: {first.source}`"
    if first.model and other.model and model_key(first.model) != model_key(other.model):
        return (
            f"{first.source} is a run of {first.model} and {other.source} a run of "
            f"{other.model}: they are runs of different models, so file only the runs of the "
            "model this filing is about"
        )
    model = f" of {first.model}" if first.model else ""
    return (
        f"they are two runs{model} of the same evaluation: file only one of them (remove the "
        f"other file, or upload the newer one marked as superseding {first.source})"
    )


Benchmark = tuple[str, str]


def _benchmark_from_hf(diagnostic: Diagnostic) -> tuple[Benchmark, int | None] | None:
    """`hf.<task>.<dataset>[:<config>].<metric>[@<k>shot]` -> ((lm-eval task, metric), k)."""
    name, shots = split_shots(diagnostic.metric)
    match = re.fullmatch(r"hf\.[^.]+\.(?P<dataset>.+)\.(?P<metric>[^.]+)", name)
    if not match:
        return None
    dataset, _, config = match["dataset"].partition(":")
    dataset_id = dataset.rsplit("/", 1)[-1]
    task = HF_DATASET_TASKS.get((dataset_id, config or None)) or HF_DATASET_TASKS.get(
        (dataset_id, None), dataset_id.lower().replace("-", "_")
    )
    raw_metric = re.split(r"[:(]", match["metric"], maxsplit=1)[0].lower()
    metric = _METRIC_SYNONYMS.get(raw_metric, raw_metric)
    return (task, HF_METRIC_NAMES.get((task, metric), metric)), shots


def _benchmark_from_evaluation(metric_id: str) -> tuple[Benchmark, int | None] | None:
    """An evaluation diagnostic's name -> ((task, metric), few-shot count).

    The importers name them `lm_eval.<task>.<metric>[.<filter>]`,
    `lighteval.<suite>.<task>.<metric>` and `inspect.<task>.<score>.<metric>`, each with an
    optional `@<k>shot`; the alias file's `lm_eval:<task>/<metric>` keys are read too, since
    an aliased diagnostic keeps its original name in its notes.
    """
    name, shots = split_shots(metric_id)
    match = re.fullmatch(r"(?P<tool>lm_eval|inspect|lighteval)[:.](?P<rest>.+)", name)
    if not match:
        return None
    tool, rest = match["tool"], match["rest"]
    is_alias_key = ":" in name.split(".", 1)[0]
    parts = rest.replace("|", "/").split("/") if is_alias_key else rest.split(".")
    if tool == "lighteval":
        parts = parts[1:]  # the suite
    if len(parts) < 2:
        return None
    task = parts[0].lower()
    metric = (parts[-1] if tool == "inspect" else parts[1]).split(",", 1)[0].lower()
    if tool == "lighteval":
        task, metric = LIGHTEVAL_TASKS.get((task, metric), (task.replace(":", "_"), metric))
    return (task, _METRIC_SYNONYMS.get(metric, metric)), shots


def _contradictions(imports: list[Imported]) -> list[IntakeWarning]:
    measured: dict[Benchmark, list[tuple[int | None, Diagnostic]]] = {}
    for imported in imports:
        if imported.kind not in EVALUATION_KINDS:
            continue
        for diagnostic in imported.diagnostics:
            names = [diagnostic.metric]
            if diagnostic.notes:
                # An alias may have renamed it to a catalogue id; importers keep the
                # original name in the notes.
                names.extend(
                    re.findall(r"(?:lm_eval|inspect|lighteval)[.:][^\s,;']+", diagnostic.notes)
                )
            for name in names:
                key = _benchmark_from_evaluation(name.rstrip(";,)"))
                if key is not None:
                    measured.setdefault(key[0], []).append((key[1], diagnostic))
    warnings: list[IntakeWarning] = []
    for imported in imports:
        if imported.kind != "hf_model_card":
            continue
        for claim in imported.diagnostics:
            key = _benchmark_from_hf(claim)
            if key is None:
                continue
            benchmark, shots = key
            evaluation = next(
                (
                    found
                    for found_shots, found in measured.get(benchmark, [])
                    if shots is None or found_shots is None or found_shots == shots
                ),
                None,
            )
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
    metadata: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    evidence: dict[str, dict[str, Any]] = {}
    for imported in imports:
        for item in imported.evidence:
            name = item["file"]
            key = f"evidence[{name}]"
            location = imported.provenance.get(key) or Location(file=imported.source)
            if item.get("confidential") is True:
                _add_mark(metadata, CONFIDENTIAL_EVIDENCE, name, location)
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


def _add_mark(metadata: dict[str, dict[str, Any]], key: str, name: str, location: Location) -> None:
    """Add `name` to a list of confidential marks, keeping where each was first made."""
    entry = metadata.setdefault(key, {"value": [], "source": location.as_dict()})
    if name not in entry["value"]:
        entry["value"].append(name)
        if location.as_dict() != entry["source"]:
            entry.setdefault("also", []).append(location.as_dict())


def _title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def _merge_metadata(
    imports: list[Imported], warnings: list[IntakeWarning]
) -> dict[str, dict[str, Any]]:
    """Card metadata and the confidential marks, first source first (see `Facts`)."""
    metadata: dict[str, dict[str, Any]] = {}
    for imported in imports:
        for key, entry in [*_legacy_metadata(imported), *imported.metadata.items()]:
            location = location_from(entry["source"])
            if key == CONFIDENTIAL_SECTIONS:
                for title in entry["value"]:
                    _add_mark(metadata, key, str(title), location)
                continue
            if key not in metadata:
                metadata[key] = {"value": entry["value"], "source": location.as_dict()}
            elif _same(metadata[key]["value"], entry["value"]):
                metadata[key].setdefault("also", []).append(location.as_dict())
            else:
                first = metadata[key]
                first_source = _describe(location_from(first["source"]))
                warnings.append(
                    IntakeWarning(
                        f"{key} is {first['value']!r} in {first_source} but "
                        f"{entry['value']!r} here; the first is shown",
                        location,
                    )
                )
        for section in imported.narrative:
            if section.confidential:
                _add_mark(metadata, CONFIDENTIAL_SECTIONS, section.title, section.location)
    return metadata


def _legacy_metadata(imported: Imported) -> list[tuple[str, dict[str, Any]]]:
    """Metadata that uploads stored before it had its own place (`card.<key>` fields)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for key in METADATA_KEYS:
        path = f"card.{key}"
        if path in imported.fields and key not in imported.metadata:
            where = imported.provenance.get(path) or Location(file=imported.source)
            found.append((key, {"value": imported.fields[path], "source": where.as_dict()}))
    return found


def _mark_confidential(
    narrative: list[NarrativeSection],
    metadata: dict[str, dict[str, Any]],
    warnings: list[IntakeWarning],
) -> list[NarrativeSection]:
    """Flag every section whose title the lab listed; say which listed titles match none."""
    entry = metadata.get(CONFIDENTIAL_SECTIONS)
    if entry is None:
        return narrative
    listed = {_title_key(title) for title in entry["value"]}
    titles = {_title_key(section.title) for section in narrative}
    for title in entry["value"]:
        if _title_key(title) not in titles:
            warnings.append(
                IntakeWarning(
                    f"confidential_sections lists {title!r}, but no narrative section has that "
                    "title; check the spelling against the card's headings",
                    location_from(entry["source"]),
                )
            )
    return [
        replace(section, confidential=True) if _title_key(section.title) in listed else section
        for section in narrative
    ]


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
    values = _merge_fields(imports, provenance, errors)
    diagnostics = _merge_diagnostics(imports, superseded, provenance, errors)
    if errors:
        raise IntakeErrors(errors)

    warnings: list[IntakeWarning] = [w for imported in imports for w in imported.warnings]
    _merge_offered(imports, values, provenance, warnings)
    warnings.extend(_contradictions(imports))
    metadata = _merge_metadata(imports, warnings)
    document = _nest(values)
    if diagnostics:
        document["diagnostics"] = [d.as_fact() for d in diagnostics]
    evidence = _merge_evidence(imports, provenance, warnings, metadata)
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
    narrative = _mark_confidential(
        [section for imported in imports for section in imported.narrative], metadata, warnings
    )
    return Facts(
        document=document,
        provenance=provenance,
        warnings=bounded_warnings(warnings, limit=MAX_WARNINGS_PER_FACTS),
        narrative=narrative,
        missing=missing,
        sha256=sha256_hex(document),
        metadata=metadata,
    )
