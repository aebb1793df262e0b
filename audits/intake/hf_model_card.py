"""Hugging Face model cards (`README.md` with YAML front matter).

The card format is huggingface_hub's: we split the front matter as its `REGEX_YAML_BLOCK`
does (copied here so format detection does not import the library; a test pins the two
together) and read each `model-index` result with its `model_index_to_eval_results`. Only
the YAML reading itself is ours (`yaml_safe.load_yaml` instead of `yaml.safe_load`), for
bounded aliases, YAML 1.2 numbers and errors with lines.

What maps to the filing, because it means the same thing:
    model-index[0].name, else `model_name`, else the title heading  -> model.name
    base_model (one model)                                          -> model.base_model
    govportal: {...}  (filing keys, validated strictly)             -> those filing fields
Card metadata that is not a filing fact is kept as metadata (shown to the regulator, not
scored): pipeline_tag, license, language, tags, datasets, library_name. The rest of the
front matter (widget, inference, ...) is not kept.

`model-index` results become diagnostics named
    hf.<task.type>.<dataset.type>[:<dataset.config>].<metric.type>[:<metric.config>]
with `(<metric.name>)` added when two metrics of the card would otherwise share a name
(SQuAD's EM and F1 both typed `squad`), or `(<dataset.split>)` when only the split tells
them apart, and `@<k>shot` when `dataset.args.num_few_shot` states the few-shot count;
e.g. `hf.text-generation.ai2_arc:ARC-Challenge.acc_norm@25shot`. The value is as the card
gives it (leaderboards report percentages); a value written `"-54.39 +/- 27.31"` (the
deep-RL course's mean ± standard deviation) is read as -54.39, with the spread in the notes.
The dataset's pretty name is the suite; metric name, split and source go to the notes.
A malformed result is a warning.
"""

from __future__ import annotations

import math
import re
from typing import Any

from audits.intake.diagnostics.common import parse_shots, with_shots
from audits.intake.filing import facts_from_document, validate_filing
from audits.intake.markdown_card import split_sections, title_name
from audits.intake.types import Diagnostic, Imported, IntakeError, Location
from audits.intake.yaml_safe import decode_utf8, load_yaml

GOVPORTAL_KEY = "govportal"
DIAGNOSTIC_PREFIX = "hf."
METADATA_KEYS = ("pipeline_tag", "license", "language", "tags", "datasets", "library_name")
# huggingface_hub.repocard.REGEX_YAML_BLOCK (tests/audits/intake/test_hf_model_card.py)
REGEX_YAML_BLOCK = re.compile(
    r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))"
)
_SLUG_UNSAFE = re.compile(r"\s+")
_SPREAD = re.compile(
    r"\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:\+/-|\+-|±)\s*"
    r"(?P<spread>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
)


def split_front_matter(text: str) -> tuple[str | None, str, int, int]:
    """Split a card into (front matter YAML or None, body, YAML's first line, body's first line).

    Line numbers are 0-based offsets into the whole file, so that lines reported for the
    front matter and the body are the file's own lines.
    """
    match = REGEX_YAML_BLOCK.search(text)
    if not match:
        return None, text, 0, 0
    yaml_offset = text.count("\n", 0, match.start(2))
    body_offset = text.count("\n", 0, match.end())
    return match.group(2), text[match.end() :], yaml_offset, body_offset


def has_front_matter(text: str) -> bool:
    """True when `text` opens with a `---` YAML block, as Hugging Face cards do."""
    return REGEX_YAML_BLOCK.search(text) is not None


def _slug(text: Any) -> str:
    return _SLUG_UNSAFE.sub("_", str(text).strip())


def _value_and_spread(raw: Any) -> tuple[float, float | None] | None:
    """A finite value from a number, numeric text, or "mean +/- spread" text."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return (float(raw), None) if math.isfinite(raw) else None
    if not isinstance(raw, str):
        return None
    match = _SPREAD.fullmatch(raw)
    if match is not None:
        value, spread = float(match["value"]), float(match["spread"])
        return (value, spread) if math.isfinite(value) and math.isfinite(spread) else None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return (value, None) if math.isfinite(value) else None


def _notes(result: Any, spread: float | None) -> str | None:
    notes: list[str] = []
    if spread is not None:
        notes.append(
            f"reported as {result.metric_value} (± {spread:g} is the spread the card gives, "
            "not a confidence interval)"
        )
    if result.metric_name:
        notes.append(f"metric: {result.metric_name}")
    if result.dataset_split:
        notes.append(f"split: {result.dataset_split}")
    if result.source_name or result.source_url:
        notes.append(
            "source: " + " ".join(str(p) for p in (result.source_name, result.source_url) if p)
        )
    if result.verified:
        notes.append("verified by Hugging Face")
    return "; ".join(notes) or None


class _Metric:
    """One well-formed model-index metric, before its name is made unique in the card."""

    def __init__(self, path: str, result: Any, value: float, spread: float | None) -> None:
        self.path, self.result, self.value, self.spread = path, result, value, spread
        dataset = _slug(result.dataset_type)
        if result.dataset_config:
            dataset += f":{_slug(result.dataset_config)}"
        metric = _slug(result.metric_type)
        if result.metric_config:
            metric += f":{_slug(result.metric_config)}"
        self.stem = f"{DIAGNOSTIC_PREFIX}{_slug(result.task_type)}.{dataset}.{metric}"
        args = result.dataset_args if isinstance(result.dataset_args, dict) else {}
        self.shots = parse_shots(args.get("num_few_shot"))
        self.qualifier = ""

    @property
    def metric(self) -> str:
        return with_shots(self.stem + self.qualifier, self.shots)


def _import_model_index(model_index: Any, imported: Imported, lines: dict[str, int]) -> str | None:
    """Add each well-formed `model-index` metric as a diagnostic; warn about the rest.

    Returns the model name the index gives (entry 0), if any.
    """
    from huggingface_hub.repocard_data import model_index_to_eval_results

    source = imported.source

    def where(path: str) -> Location:
        return Location(file=source, line=lines.get(path), field=path)

    if not isinstance(model_index, list):
        imported.warn(
            "model-index is not a list of models, so its results were not read; see the "
            "Hugging Face model card specification",
            where("model-index"),
        )
        return None
    name: str | None = None
    metrics: list[_Metric] = []
    for model_number, entry in enumerate(model_index):
        entry_path = f"model-index[{model_number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("results", []), list):
            imported.warn(
                f"{entry_path} must be a mapping with `name` and a list of `results`; skipped",
                where(entry_path),
            )
            continue
        if name is None and isinstance(entry.get("name"), str) and entry["name"].strip():
            name = entry["name"].strip()
        for result_number, result in enumerate(entry.get("results") or []):
            result_path = f"{entry_path}.results[{result_number}]"
            try:
                _, evals = model_index_to_eval_results(
                    [{"name": entry.get("name"), "results": [result]}]
                )
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                imported.warn(
                    f"{result_path} is malformed ({type(error).__name__}: {error}); a result "
                    "needs task.type, dataset.type, dataset.name and metrics with type and "
                    "value. It was skipped",
                    where(result_path),
                    kind="malformed_result",
                )
                continue
            for metric_number, evaluation in enumerate(evals):
                metric_path = f"{result_path}.metrics[{metric_number}]"
                parsed = _value_and_spread(evaluation.metric_value)
                if parsed is None:
                    imported.warn(
                        f"{metric_path}: value {evaluation.metric_value!r} is not a finite "
                        "number; the result was skipped",
                        where(metric_path),
                        kind="not_a_number",
                    )
                    continue
                metrics.append(_Metric(metric_path, evaluation, *parsed))
    _qualify_repeated_names(metrics)
    seen: dict[str, str] = {}
    for found in metrics:
        if found.metric in seen:
            imported.warn(
                f"{found.path} repeats {found.metric} (first at {seen[found.metric]}); the "
                "repeat was skipped",
                where(found.path),
                kind="repeated_result",
            )
            continue
        seen[found.metric] = found.path
        result = found.result
        imported.diagnostics.append(
            Diagnostic(
                metric=found.metric,
                value=found.value,
                location=where(found.path),
                suite=str(result.dataset_name) if result.dataset_name else None,
                notes=_notes(result, found.spread),
            )
        )
    return name


def _qualify_repeated_names(metrics: list[_Metric]) -> None:
    """Tell apart metrics of the card that would share a name: by metric name, else split."""
    for attribute in ("metric_name", "dataset_split"):
        groups: dict[str, list[_Metric]] = {}
        for found in metrics:
            groups.setdefault(found.metric, []).append(found)
        for group in groups.values():
            labels = {getattr(found.result, attribute) for found in group}
            if len(group) < 2 or len(labels) < 2:
                continue
            for found in group:
                label = getattr(found.result, attribute)
                if label:
                    found.qualifier += f"({_slug(label)})"


def _metadata_value(key: str, value: Any) -> Any:
    """Card metadata as one shape per key: lists for language, tags and datasets."""
    if key in ("language", "tags", "datasets"):
        items = value if isinstance(value, list) else [value]
        return list(dict.fromkeys(str(item) for item in items if item not in (None, "")))
    if isinstance(value, list):
        return [str(item) for item in value]
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def import_hf_model_card(source: str, content: bytes) -> Imported:
    """Import a Hugging Face model card: metadata, model-index diagnostics, the
    `govportal:` filing block (strict) and the markdown body as narrative sections.

    Raises IntakeError for unreadable front matter (invalid YAML, not a mapping) and
    IntakeErrors for an invalid `govportal:` block (paths prefixed `govportal.`).
    """
    text = decode_utf8(content, source=source)
    front_matter, body, yaml_offset, body_offset = split_front_matter(text)
    imported = Imported(source=source, kind="hf_model_card")
    metadata: Any = {}
    lines: dict[str, int] = {}
    if front_matter is not None:
        loaded = load_yaml(front_matter, source=source, line_offset=yaml_offset)
        metadata, lines = loaded.value, loaded.lines
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise IntakeError(
                "the YAML front matter must be a mapping of keys (license: ..., tags: ...), "
                f"got {type(metadata).__name__}",
                file=source,
                line=yaml_offset + 1,
            )

    def where(path: str) -> Location:
        return Location(file=source, line=lines.get(path), field=path)

    for key in METADATA_KEYS:
        value = metadata.get(key)
        if value not in (None, "", []):
            imported.set_metadata(key, _metadata_value(key, value), where(key))

    index_name = None
    if "model-index" in metadata:
        index_name = _import_model_index(metadata["model-index"], imported, lines)

    card_name = metadata.get("model_name")
    if index_name:
        imported.set_fact("model.name", index_name, where("model-index[0].name"))
    elif isinstance(card_name, str) and card_name.strip():
        imported.set_fact("model.name", card_name.strip(), where("model_name"))
    else:
        _name_from_body(imported, body, body_offset)

    base_model = metadata.get("base_model")
    if isinstance(base_model, list) and len(base_model) == 1:
        base_model = base_model[0]
    if isinstance(base_model, str) and base_model.strip():
        imported.set_fact("model.base_model", base_model.strip(), where("base_model"))
    elif base_model is not None:
        imported.warn(
            f"base_model lists {len(base_model) if isinstance(base_model, list) else 'a'} "
            "value(s) the filing's single model.base_model cannot hold; give model.base_model "
            "in the govportal: block",
            where("base_model"),
        )

    if GOVPORTAL_KEY in metadata:
        _import_govportal_block(metadata[GOVPORTAL_KEY], imported, lines)

    imported.narrative.extend(split_sections(body, source=source, line_offset=body_offset))
    return imported


def _name_from_body(imported: Imported, body: str, body_offset: int) -> None:
    title = title_name(body, line_offset=body_offset)
    if title is not None:
        name, line, field = title
        imported.set_fact("model.name", name, Location(imported.source, line=line, field=field))


def _import_govportal_block(block: Any, imported: Imported, lines: dict[str, int]) -> None:
    """Validate the `govportal:` block as filing fields and let it override card facts."""
    prefix = f"{GOVPORTAL_KEY}."
    validate_filing(block, imported.source, lines=lines, prefix=prefix, partial=True)
    filing = Imported(source=imported.source, kind="filing")
    facts_from_document(block, filing, lines=lines, prefix=prefix)
    for path, value in filing.fields.items():
        card_value = imported.fields.get(path)
        if card_value is not None and card_value != value:
            imported.warn(
                f"the govportal: block gives {path} = {value!r} while the card metadata says "
                f"{card_value!r} ({imported.provenance[path].field}); the govportal value is used",
                filing.provenance[path],
            )
        imported.set_fact(path, value, filing.provenance[path])
    imported.diagnostics.extend(filing.diagnostics)
    imported.evidence.extend(filing.evidence)
    imported.metadata.update(filing.metadata)
    imported.provenance.update(
        {k: v for k, v in filing.provenance.items() if k.startswith("evidence[")}
    )
