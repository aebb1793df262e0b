"""Hugging Face model cards (`README.md` with YAML front matter).

The card format is huggingface_hub's: we split the front matter with its
`REGEX_YAML_BLOCK`, read the card metadata with `ModelCardData` and each `model-index`
result with `model_index_to_eval_results`. Only the YAML reading itself is ours
(`yaml_safe.load_yaml` instead of `yaml.safe_load`), for bounded aliases, YAML 1.2 numbers
and errors with lines.

What maps to the filing, because it means the same thing:
    model-index[0].name, else `model_name`, else the title heading  -> model.name
    base_model (one model)                                          -> model.base_model
    govportal: {...}  (filing keys, validated strictly)             -> those filing fields
Everything else in the front matter (license, datasets, language, tags, pipeline_tag, ...)
is kept as card metadata under `card.<key>`, not as a filing fact.

`model-index` results become diagnostics named
    hf.<task.type>.<dataset.type>[:<dataset.config>].<metric.type>
e.g. `hf.text-generation.ai2_arc:ARC-Challenge.acc_norm`, with the value as the card gives
it (leaderboards report percentages), the dataset's pretty name as suite, and the metric
name, split, few-shot count and source in the notes. A malformed result is a warning.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from huggingface_hub import ModelCardData
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import EvalResult, model_index_to_eval_results

from audits.intake.filing import facts_from_document, validate_filing
from audits.intake.markdown_card import split_sections, title_name
from audits.intake.types import Diagnostic, Imported, IntakeError, Location
from audits.intake.yaml_safe import decode_utf8, load_yaml

GOVPORTAL_KEY = "govportal"
CARD_PREFIX = "card."
DIAGNOSTIC_PREFIX = "hf."
_SLUG_UNSAFE = re.compile(r"\s+")


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


def _metric_id(result: EvalResult) -> str:
    dataset = str(result.dataset_type)
    if result.dataset_config:
        dataset += f":{result.dataset_config}"
    parts = (str(result.task_type), dataset, str(result.metric_type))
    return DIAGNOSTIC_PREFIX + ".".join(_SLUG_UNSAFE.sub("_", part.strip()) for part in parts)


def _notes(result: EvalResult) -> str | None:
    notes: list[str] = []
    if result.metric_name:
        notes.append(f"metric: {result.metric_name}")
    if result.dataset_split:
        notes.append(f"split: {result.dataset_split}")
    args = result.dataset_args if isinstance(result.dataset_args, dict) else {}
    if "num_few_shot" in args:
        notes.append(f"few-shot: {args['num_few_shot']}")
    if result.source_name or result.source_url:
        notes.append(
            "source: " + " ".join(str(p) for p in (result.source_name, result.source_url) if p)
        )
    if result.verified:
        notes.append("verified by Hugging Face")
    return "; ".join(notes) or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _import_model_index(model_index: Any, imported: Imported, lines: dict[str, int]) -> str | None:
    """Add each well-formed `model-index` metric as a diagnostic; warn about the rest.

    Returns the model name the index gives (entry 0), if any.
    """
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
    seen: dict[str, str] = {}
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
                )
                continue
            for metric_number, evaluation in enumerate(evals):
                metric_path = f"{result_path}.metrics[{metric_number}]"
                value = _number(evaluation.metric_value)
                if value is None:
                    imported.warn(
                        f"{metric_path}: value {evaluation.metric_value!r} is not a finite "
                        "number; the result was skipped",
                        where(metric_path),
                    )
                    continue
                metric = _metric_id(evaluation)
                if metric in seen:
                    imported.warn(
                        f"{metric_path} repeats {metric} (first at {seen[metric]}); the "
                        "repeat was skipped",
                        where(metric_path),
                    )
                    continue
                seen[metric] = metric_path
                imported.diagnostics.append(
                    Diagnostic(
                        metric=metric,
                        value=value,
                        location=where(metric_path),
                        suite=str(evaluation.dataset_name) if evaluation.dataset_name else None,
                        notes=_notes(evaluation),
                    )
                )
    return name


def _card_data(metadata: dict[str, Any], imported: Imported) -> ModelCardData | None:
    """The card metadata as huggingface_hub reads it (without model-index and govportal)."""
    rest = {
        str(key): value
        for key, value in metadata.items()
        if key not in ("model-index", GOVPORTAL_KEY, "ignore_metadata_errors")
    }
    hub_logger = logging.getLogger("huggingface_hub.repocard_data")
    previous = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        return ModelCardData(**rest, ignore_metadata_errors=True)
    except (TypeError, ValueError) as error:
        imported.warn(
            f"the front matter could not be read as Hugging Face card metadata ({error})",
            Location(file=imported.source, line=1),
        )
        return None
    finally:
        hub_logger.setLevel(previous)


def import_hf_model_card(source: str, content: bytes) -> Imported:
    """Import a Hugging Face model card: card metadata, model-index diagnostics, the
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

    card = _card_data(metadata, imported)

    for key, value in metadata.items():
        if key in ("model-index", GOVPORTAL_KEY):
            continue
        imported.set_fact(f"{CARD_PREFIX}{key}", value, where(str(key)))
    if card is not None and card.tags is not None:
        imported.fields[f"{CARD_PREFIX}tags"] = card.tags  # de-duplicated by huggingface_hub

    index_name = None
    if "model-index" in metadata:
        index_name = _import_model_index(metadata["model-index"], imported, lines)

    card_name = card.model_name if card is not None else None
    if index_name:
        imported.set_fact("model.name", index_name, where("model-index[0].name"))
    elif isinstance(card_name, str) and card_name.strip():
        imported.set_fact("model.name", card_name.strip(), where("model_name"))
    else:
        title = title_name(body, line_offset=body_offset)
        if title is not None:
            imported.set_fact(
                "model.name", title[0], Location(file=source, line=title[1], field="heading")
            )

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
    imported.provenance.update(
        {k: v for k, v in filing.provenance.items() if k.startswith("evidence[")}
    )
