"""Google Model Card Toolkit JSON (schema 0.0.2, with the extra keys real files carry).

Maps:
    model_details.name          -> model.name
    model_details.version.name  -> model.version
    model_details.owners        -> model.developer, only when exactly one owner is named
                                   (an owner is who owns the model; with several owners we
                                   cannot tell which one developed it, so we do not choose)
    quantitative_analysis.performance_metrics[i] -> diagnostic `mct.<type>[.<slice>]`
        (value and confidence_interval bounds as numbers; `threshold`, an extra key the
        toolkit writes, goes to the notes; a repeat at another threshold is named
        `mct.<type>[.<slice>]@<threshold>`)
    overview, documentation, considerations.*    -> narrative sections
    model_details.licenses[].identifier (or custom_text) -> metadata `license`
    model_parameters.data[].name                 -> metadata `datasets`
Metadata is shown to the regulator and not scored. Other details (references, citations,
version date, the rest of the model parameters) are not kept; graphics (base64 images)
are dropped, never stored in facts.
"""

from __future__ import annotations

import math
import re
from typing import Any

from audits.intake.filing import load_json
from audits.intake.types import Diagnostic, Imported, IntakeError, Location, NarrativeSection

DIAGNOSTIC_PREFIX = "mct."
_CONSIDERATIONS = (
    ("users", "Intended users"),
    ("use_cases", "Use cases"),
    ("limitations", "Limitations"),
    ("tradeoffs", "Tradeoffs"),
    ("ethical_considerations", "Ethical considerations"),
)


def looks_like_mct(document: Any) -> bool:
    """True for a Model Card Toolkit document (has `model_details` or `schema_version`)."""
    return (
        isinstance(document, dict)
        and (isinstance(document.get("model_details"), dict) or "schema_version" in document)
        and "bomFormat" not in document
    )


def parse_number(value: Any) -> float | None:
    """A finite number from a number or numeric text ("0.97"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def slug(text: Any) -> str:
    """Text usable inside a diagnostic id: whitespace runs become `_`."""
    return re.sub(r"\s+", "_", str(text).strip())


def _bullets(items: Any) -> str:
    lines: list[str] = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            name = item.get("name") or item.get("description")
            mitigation = item.get("mitigation_strategy")
            text = str(name) if name else ""
            if mitigation:
                text += f" (mitigation: {mitigation})"
            if text:
                lines.append(f"- {text}")
        elif item is not None:
            lines.append(f"- {item}")
    return "\n".join(lines)


def import_model_card_toolkit(source: str, content: bytes) -> Imported:
    """Import a Model Card Toolkit JSON file (schema 0.0.2). See the module docstring."""
    document = load_json(content, source=source)
    if not looks_like_mct(document):
        raise IntakeError(
            "not a Model Card Toolkit file: no `model_details` or `schema_version` key",
            file=source,
        )
    imported = Imported(source=source, kind="model_card_toolkit")

    def where(path: str) -> Location:
        return Location(file=source, field=path)

    version = document.get("schema_version")
    if version is not None and version != "0.0.2":
        imported.warn(
            f"schema_version {version!r}: this importer reads 0.0.2; check the facts",
            where("schema_version"),
        )
    details = document.get("model_details")
    details = details if isinstance(details, dict) else {}
    if isinstance(details.get("name"), str) and details["name"].strip():
        imported.set_fact("model.name", details["name"].strip(), where("model_details.name"))
    model_version = details.get("version")
    if isinstance(model_version, dict):
        name = model_version.get("name")
        if isinstance(name, (str, int, float)) and not isinstance(name, bool) and str(name):
            imported.set_fact("model.version", str(name), where("model_details.version.name"))
        if model_version.get("date"):
            imported.set_fact(
                "card.version.date", model_version["date"], where("model_details.version.date")
            )
    owners = details.get("owners")
    named = (
        [
            o["name"].strip()
            for o in owners or []
            if isinstance(o, dict) and isinstance(o.get("name"), str) and o["name"].strip()
        ]
        if isinstance(owners, list)
        else []
    )
    if len(named) == 1:
        imported.set_fact("model.developer", named[0], where("model_details.owners[0].name"))
    elif len(named) > 1:
        imported.warn(
            f"model_details.owners names {len(named)} owners ({', '.join(named)}); "
            "model.developer is left missing because we cannot tell which one developed the "
            "model; give it in the filing",
            where("model_details.owners"),
        )
    licenses = [
        str(entry.get("identifier") or entry.get("custom_text"))
        for entry in details.get("licenses") or []
        if isinstance(entry, dict) and (entry.get("identifier") or entry.get("custom_text"))
    ]
    if licenses:
        shown = licenses[0] if len(licenses) == 1 else licenses
        imported.set_metadata("license", shown, where("model_details.licenses"))
    parameters = document.get("model_parameters")
    data = parameters.get("data") if isinstance(parameters, dict) else None
    datasets = [
        str(entry["name"])
        for entry in (data if isinstance(data, list) else [])
        if isinstance(entry, dict) and entry.get("name")
    ]
    if datasets:
        imported.set_metadata("datasets", datasets, where("model_parameters.data"))

    for key, title in (("overview", "Overview"), ("documentation", "Documentation")):
        if isinstance(details.get(key), str) and details[key].strip():
            imported.narrative.append(
                NarrativeSection(title, details[key].strip(), where(f"model_details.{key}"))
            )

    analysis = document.get("quantitative_analysis")
    metrics = analysis.get("performance_metrics") if isinstance(analysis, dict) else None
    seen: set[str] = set()
    for index, entry in enumerate(metrics if isinstance(metrics, list) else []):
        path = f"quantitative_analysis.performance_metrics[{index}]"
        if not isinstance(entry, dict) or not entry.get("type"):
            imported.warn(f"{path} has no metric type; skipped", where(path))
            continue
        value = parse_number(entry.get("value"))
        if value is None:
            imported.warn(
                f"{path}: value {entry.get('value')!r} is not a finite number; skipped",
                where(path),
            )
            continue
        metric = DIAGNOSTIC_PREFIX + slug(entry["type"])
        if entry.get("slice"):
            metric += f".{slug(entry['slice'])}"
        threshold = entry.get("threshold")
        if metric in seen and threshold is not None:
            metric += f"@{slug(threshold)}"
        if metric in seen:
            imported.warn(f"{path} repeats {metric}; the repeat was skipped", where(path))
            continue
        seen.add(metric)
        interval = entry.get("confidence_interval")
        interval = interval if isinstance(interval, dict) else {}
        imported.diagnostics.append(
            Diagnostic(
                metric=metric,
                value=value,
                location=where(path),
                ci_low=parse_number(interval.get("lower_bound")),
                ci_high=parse_number(interval.get("upper_bound")),
                notes=f"threshold {threshold}" if threshold is not None else None,
            )
        )

    considerations = document.get("considerations")
    if isinstance(considerations, dict):
        for key, title in _CONSIDERATIONS:
            text = _bullets(considerations.get(key)) if considerations.get(key) else ""
            if text:
                imported.narrative.append(
                    NarrativeSection(title, text, where(f"considerations.{key}"))
                )
    return imported
