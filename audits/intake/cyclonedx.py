"""CycloneDX 1.5/1.6 ML-BOM: `machine-learning-model` components and their `modelCard`.

The subject model is `metadata.component` when it is a machine-learning model, otherwise
the only machine-learning-model component (nested components included). Its facts map:
    name                              -> model.name
    version                           -> model.version
    publisher, else author            -> model.developer (the supplier is a distributor,
                                         e.g. Hugging Face, so it is not used)
    modelCard.quantitativeAnalysis.performanceMetrics[i]
                                      -> diagnostic `cyclonedx.<type>[.<slice>]`
    modelCard.considerations.*        -> narrative sections
    licenses (id, name or expression) -> metadata `license`
    tags                              -> metadata `tags`
    modelCard.modelParameters.task    -> metadata `pipeline_tag`
    modelCard.modelParameters.datasets (name, else ref) -> metadata `datasets`
Metadata is shown to the regulator and not scored; the rest (architecture family, approach,
description) is not kept: the filing's architecture enum is not the same vocabulary.
With several models and no `metadata.component`, no model.* fact is taken (we cannot tell
which one is filed); each model's metrics are named `cyclonedx.<component>.<type>...`.
Graphics (base64 images) are dropped.
"""

from __future__ import annotations

from typing import Any

from audits.intake.filing import load_json
from audits.intake.model_card_toolkit import parse_number, slug
from audits.intake.types import Diagnostic, Imported, IntakeError, Location, NarrativeSection

DIAGNOSTIC_PREFIX = "cyclonedx."
ML_MODEL = "machine-learning-model"
SUPPORTED_SPECS = ("1.5", "1.6")
_CONSIDERATIONS = (
    ("users", "Intended users"),
    ("useCases", "Use cases"),
    ("technicalLimitations", "Technical limitations"),
    ("performanceTradeoffs", "Performance tradeoffs"),
    ("ethicalConsiderations", "Ethical considerations"),
    ("fairnessAssessments", "Fairness assessments"),
    ("environmentalConsiderations", "Environmental considerations"),
)


def looks_like_cyclonedx(document: Any) -> bool:
    """True for a CycloneDX BOM (`bomFormat: CycloneDX`)."""
    return isinstance(document, dict) and document.get("bomFormat") == "CycloneDX"


def _ml_components(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, component) for every machine-learning-model component, depth first."""
    found: list[tuple[str, dict[str, Any]]] = []
    stack: list[tuple[str, Any]] = [("components", document.get("components"))]
    while stack:
        path, components = stack.pop()
        if not isinstance(components, list):
            continue
        nested: list[tuple[str, Any]] = []
        for index, component in enumerate(components):
            if not isinstance(component, dict):
                continue
            here = f"{path}[{index}]"
            if component.get("type") == ML_MODEL:
                found.append((here, component))
            nested.append((f"{here}.components", component.get("components")))
        stack.extend(reversed(nested))
    return found


def _text(item: Any) -> str:
    """One consideration entry as readable text (strings, or objects flattened)."""
    if isinstance(item, dict):
        parts = []
        for key, value in item.items():
            if isinstance(value, (dict, list)):
                value = _text(value)
            if value not in (None, ""):
                parts.append(f"{key}: {value}")
        return "; ".join(parts)
    if isinstance(item, list):
        return "; ".join(_text(i) for i in item)
    return str(item)


def _considerations(considerations: Any, path: str, imported: Imported) -> None:
    if not isinstance(considerations, dict):
        return
    for key, title in _CONSIDERATIONS:
        value = considerations.get(key)
        if not value:
            continue
        if key == "environmentalConsiderations" and isinstance(value, dict):
            items = [f"{k}: {_text(v)}" for k, v in value.items()]
        else:
            items = [_text(item) for item in (value if isinstance(value, list) else [value])]
        text = "\n".join(f"- {item}" for item in items if item)
        if text:
            imported.narrative.append(
                NarrativeSection(title, text, Location(imported.source, None, f"{path}.{key}"))
            )


def _metrics(
    card: dict[str, Any], path: str, prefix: str, imported: Imported, seen: set[str]
) -> None:
    analysis = card.get("quantitativeAnalysis")
    metrics = analysis.get("performanceMetrics") if isinstance(analysis, dict) else None
    for index, entry in enumerate(metrics if isinstance(metrics, list) else []):
        here = f"{path}.quantitativeAnalysis.performanceMetrics[{index}]"
        location = Location(file=imported.source, field=here)
        if not isinstance(entry, dict) or not entry.get("type"):
            imported.warn(f"{here} has no metric type; skipped", location)
            continue
        value = parse_number(entry.get("value"))
        if value is None:
            imported.warn(
                f"{here}: value {entry.get('value')!r} is not a finite number; skipped",
                location,
            )
            continue
        metric = prefix + slug(entry["type"])
        if entry.get("slice"):
            metric += f".{slug(entry['slice'])}"
        if metric in seen:
            imported.warn(f"{here} repeats {metric}; the repeat was skipped", location)
            continue
        seen.add(metric)
        interval = entry.get("confidenceInterval")
        interval = interval if isinstance(interval, dict) else {}
        imported.diagnostics.append(
            Diagnostic(
                metric=metric,
                value=value,
                location=location,
                ci_low=parse_number(interval.get("lowerBound")),
                ci_high=parse_number(interval.get("upperBound")),
            )
        )


def import_cyclonedx(source: str, content: bytes) -> Imported:
    """Import a CycloneDX ML-BOM. See the module docstring for what maps where.

    Raises IntakeError when the file is not a CycloneDX BOM or holds no
    machine-learning-model component.
    """
    document = load_json(content, source=source)
    if not looks_like_cyclonedx(document):
        raise IntakeError("not a CycloneDX BOM: `bomFormat` is not CycloneDX", file=source)
    imported = Imported(source=source, kind="cyclonedx")
    spec = document.get("specVersion")
    if spec not in SUPPORTED_SPECS:
        imported.warn(
            f"specVersion {spec!r}: ML-BOM model cards are read as in CycloneDX 1.5/1.6",
            Location(source, None, "specVersion"),
        )
    models = _ml_components(document)
    metadata = document.get("metadata")
    subject = metadata.get("component") if isinstance(metadata, dict) else None
    if isinstance(subject, dict) and subject.get("type") == ML_MODEL:
        models.insert(0, ("metadata.component", subject))
    if not models:
        raise IntakeError(
            "the BOM has no component of type machine-learning-model; upload the ML-BOM "
            "that describes the model",
            file=source,
            field="components",
        )
    single = len(models) == 1 or models[0][0] == "metadata.component"
    if not single:
        imported.warn(
            f"the BOM describes {len(models)} machine-learning models and no "
            "metadata.component says which one is filed; model.name, version and developer "
            "are left missing",
            Location(source, None, "components"),
        )
    seen: set[str] = set()
    for number, (path, component) in enumerate(models):
        if single and number == 0:
            _subject_facts(component, path, imported)
            prefix = DIAGNOSTIC_PREFIX
        else:
            prefix = f"{DIAGNOSTIC_PREFIX}{slug(component.get('name', number))}."
        card = component.get("modelCard")
        if not isinstance(card, dict):
            continue
        _metrics(card, f"{path}.modelCard", prefix, imported, seen)
        _considerations(card.get("considerations"), f"{path}.modelCard.considerations", imported)
        parameters = card.get("modelParameters")
        if single and number == 0 and isinstance(parameters, dict):
            _parameters_metadata(parameters, f"{path}.modelCard.modelParameters", imported)
    return imported


def _parameters_metadata(parameters: dict[str, Any], path: str, imported: Imported) -> None:
    if isinstance(parameters.get("task"), str) and parameters["task"].strip():
        where = Location(imported.source, None, f"{path}.task")
        imported.set_metadata("pipeline_tag", parameters["task"].strip(), where)
    datasets = [
        str(d.get("name") or d.get("ref"))
        for d in parameters.get("datasets") or []
        if isinstance(d, dict) and (d.get("name") or d.get("ref"))
    ]
    if datasets:
        imported.set_metadata(
            "datasets", datasets, Location(imported.source, None, f"{path}.datasets")
        )


def _licenses(component: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for entry in component.get("licenses") or []:
        if not isinstance(entry, dict):
            continue
        license_ = entry.get("license")
        if isinstance(license_, dict) and (license_.get("id") or license_.get("name")):
            found.append(str(license_.get("id") or license_.get("name")))
        elif isinstance(entry.get("expression"), str):
            found.append(entry["expression"])
    return found


def _subject_facts(component: dict[str, Any], path: str, imported: Imported) -> None:
    def put(fact: str, key: str) -> None:
        value = component.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            imported.set_fact(fact, str(value), Location(imported.source, None, f"{path}.{key}"))

    put("model.name", "name")
    put("model.version", "version")
    if component.get("publisher"):
        put("model.developer", "publisher")
    else:
        put("model.developer", "author")
    licenses = _licenses(component)
    if licenses:
        imported.set_metadata(
            "license",
            licenses[0] if len(licenses) == 1 else licenses,
            Location(imported.source, None, f"{path}.licenses"),
        )
    tags = component.get("tags")
    if isinstance(tags, list) and tags:
        imported.set_metadata(
            "tags", [str(tag) for tag in tags], Location(imported.source, None, f"{path}.tags")
        )
