"""The filing form: one field per fact of filing schema v1, generated from the schema file.

Built from `audits/schemas/filing-v1.json` so it can never drift from what intake accepts:
enumerations become selects (or checkboxes for lists), numbers and integers number inputs
with the schema's minimum, booleans a yes/no/not-stated select (a fact left out is missing,
never false). Facts an uploaded file already supplies are shown read-only with their
source: files are filed evidence and are superseded by new files, not edited here.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from audits.intake.filing import FILING_SCHEMA_ID, filing_schema, schema_leaf_paths
from audits.web.presenters import SECTION_TITLES, describe_location, fact_lookup, humanize

NOT_STATED = ("", "— not stated —")
# The submission record supplies these; the form carries them so the document is complete.
IDENTITY = ("model.name", "model.version")
LONG_TEXT = {"model.intended_use"}


def field_name(path: str) -> str:
    return path.replace(".", "__")


def _spec(path: str) -> dict[str, Any]:
    section, name = path.split(".", 1)
    spec: dict[str, Any] = filing_schema()["properties"][section]["properties"][name]
    return spec


def _field_for(path: str, spec: Mapping[str, Any]) -> forms.Field:
    label = humanize(path.split(".", 1)[1])
    help_text = str(spec.get("description") or "")
    kinds = spec.get("type") or "string"
    kind = kinds if isinstance(kinds, str) else next(k for k in kinds if k != "null")
    common: dict[str, Any] = {"label": label, "help_text": help_text, "required": False}
    if kind == "string" and "enum" in spec:
        choices = [NOT_STATED, *((value, humanize(value)) for value in spec["enum"])]
        return forms.ChoiceField(choices=choices, **common)
    if kind == "array":
        values = (spec.get("items") or {}).get("enum") or []
        return forms.MultipleChoiceField(
            choices=[(value, humanize(value)) for value in values],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == "boolean":
        return forms.TypedChoiceField(
            choices=[NOT_STATED, ("true", "Yes"), ("false", "No")],
            coerce=lambda value: value == "true",
            empty_value=None,
            **common,
        )
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), **common)
    if kind == "number":
        return forms.FloatField(
            min_value=spec.get("minimum"),
            widget=forms.NumberInput(attrs={"step": "any"}),
            **common,
        )
    if spec.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if path in LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(max_length=500, **common)


def _initial(value: Any, spec: Mapping[str, Any]) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.get("format") == "date" and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


@dataclass
class FormSection:
    id: str
    title: str
    fields: list[forms.BoundField]


class FilingForm(forms.Form):
    """The facts of schema v1 not yet supplied, as inputs; the supplied ones, read-only."""

    def __init__(
        self,
        *args: Any,
        document: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.document = document or {}
        provenance = provenance or {}
        self.supplied: dict[str, Any] = {}
        for path in schema_leaf_paths():
            spec = _spec(path)
            form_field = _field_for(path, spec)
            present, value = fact_lookup(self.document, path)
            if present:
                self.supplied[path] = value
                form_field.disabled = True
                form_field.initial = _initial(value, spec)
                source = describe_location(provenance.get(path))
                form_field.help_text = f"Supplied by {source}." if source else "Supplied."
            elif path == "model.developer":
                form_field.required = True
            form_field.widget.attrs.setdefault("data-fact", path)
            self.fields[field_name(path)] = form_field

    def sections(self) -> list[FormSection]:
        grouped: dict[str, FormSection] = {}
        for path in schema_leaf_paths():
            section = path.split(".", 1)[0]
            block = grouped.setdefault(
                section, FormSection(section, SECTION_TITLES.get(section, section), [])
            )
            block.fields.append(self[field_name(path)])
        return list(grouped.values())

    @property
    def open_count(self) -> int:
        return sum(1 for form_field in self.fields.values() if not form_field.disabled)

    def filing_document(self) -> dict[str, Any]:
        """The facts entered here as a native filing (identity facts always included)."""
        document: dict[str, Any] = {"filing_schema": FILING_SCHEMA_ID}
        for path in schema_leaf_paths():
            form_field = self.fields[field_name(path)]
            if path in self.supplied:
                if path in (*IDENTITY, "model.developer"):
                    _put(document, path, self.supplied[path])
                continue
            value: Any = self.cleaned_data.get(field_name(path))
            if value in (None, "", []):
                continue
            if isinstance(value, datetime.date):
                value = value.isoformat()
            if isinstance(form_field, forms.MultipleChoiceField):
                value = list(value)
            _put(document, path, value)
        return document

    @property
    def entered(self) -> int:
        """How many facts the lab typed in (beyond those already supplied)."""
        document = self.filing_document()
        return sum(
            1
            for path in schema_leaf_paths()
            if path not in self.supplied and fact_lookup(document, path)[0]
        )


def _put(document: dict[str, Any], path: str, value: Any) -> None:
    section, name = path.split(".", 1)
    document.setdefault(section, {})[name] = value
