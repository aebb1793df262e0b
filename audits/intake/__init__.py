"""Intake: every input a lab uploads becomes facts with provenance (pure Python, no Django).

`import_file` recognizes the format by the bytes (not the file extension) and returns an
`Imported`; `merge` turns the imports of a submission revision into `Facts`.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from audits.intake.catalogue import CATALOGUE, check_metric_value
from audits.intake.cyclonedx import import_cyclonedx, looks_like_cyclonedx
from audits.intake.filing import import_filing, load_json, looks_like_json, validate_filing
from audits.intake.hf_model_card import has_front_matter, import_hf_model_card
from audits.intake.markdown_card import import_markdown_card
from audits.intake.model_card_toolkit import import_model_card_toolkit, looks_like_mct
from audits.intake.normalize import Facts, merge
from audits.intake.types import (
    Diagnostic,
    Imported,
    IntakeError,
    IntakeErrors,
    IntakeWarning,
    Location,
    NarrativeSection,
)
from audits.intake.yaml_safe import decode_utf8

__all__ = [
    "CATALOGUE",
    "Diagnostic",
    "Facts",
    "Imported",
    "IntakeError",
    "IntakeErrors",
    "IntakeWarning",
    "Location",
    "NarrativeSection",
    "check_metric_value",
    "detect_format",
    "import_file",
    "merge",
    "validate_filing",
]

_FILING_KEY = re.compile(r"^[\"']?filing_schema[\"']?\s*:", re.MULTILINE)
_FILING_SECTION = re.compile(
    r"^(?:model|training|deployment|transparency|diagnostics|evidence)\s*:", re.MULTILINE
)
_MARKDOWN_HEADING = re.compile(r"^(?:#{1,6}\s+\S|\S.*\n(?:=+|-+)\s*$)", re.MULTILINE)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable"),
)
_KNOWN = (
    "a filing (YAML/JSON with filing_schema), a Hugging Face model card (README.md with ---"
    " front matter), a markdown model card, Model Card Toolkit JSON, a CycloneDX ML-BOM, or a"
    " diagnostics file (CSV/TSV/JSON table, lm-evaluation-harness results, Inspect log)"
)


def _diagnostics_module() -> Any | None:
    """The diagnostics importers, built beside this package; None while they do not exist."""
    try:
        return importlib.import_module("audits.intake.diagnostics")
    except ModuleNotFoundError as error:
        if error.name == "audits.intake.diagnostics":
            return None
        raise


def _diagnostics_kind(source: str, content: bytes) -> str | None:
    module = _diagnostics_module()
    if module is None or not hasattr(module, "detect"):
        return None
    kind: str | None = module.detect(source, content)
    return kind


def _what_binary(content: bytes) -> str:
    for magic, name in _MAGIC:
        if content.startswith(magic):
            return name
    return "binary data"


def _looks_like_utf16(content: bytes) -> bool:
    sample = content[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > 0.9 * len(even) or odd.count(0) > 0.9 * len(odd)


def detect_format(source: str, content: bytes) -> str:
    """The input kind of `content`: "filing", "hf_model_card", "markdown_model_card",
    "model_card_toolkit", "cyclonedx", or a diagnostics kind ("diagnostics:<kind>").

    Raises IntakeError naming the file and what was found when nothing fits.
    """
    if not content.strip():
        raise IntakeError("the file is empty; upload the file again", file=source)
    if looks_like_json(content):
        document = load_json(content, source=source)
        if isinstance(document, dict) and "filing_schema" in document:
            return "filing"
        if looks_like_cyclonedx(document):
            return "cyclonedx"
        if looks_like_mct(document):
            return "model_card_toolkit"
        kind = _diagnostics_kind(source, content)
        if kind is not None:
            return f"diagnostics:{kind}"
        keys = ", ".join(list(document)[:8]) if isinstance(document, dict) else "a list"
        raise IntakeError(
            f"JSON with {'keys ' + keys if isinstance(document, dict) else keys} is not a "
            f"format the portal reads; upload {_KNOWN}",
            file=source,
        )
    try:
        text = decode_utf8(content, source=source)
    except IntakeError as undecodable:
        kind = _diagnostics_kind(source, content)  # e.g. a zipped Inspect `.eval` log
        if kind is not None:
            return f"diagnostics:{kind}"
        if "UTF-16" in undecodable.message or "UTF-32" in undecodable.message:
            raise
        what = _what_binary(content)
        if what == "binary data" and _looks_like_utf16(content):
            raise IntakeError(
                "the file looks like UTF-16 text without a byte-order mark (every other byte "
                "is NUL); save it as UTF-8 and upload it again",
                file=source,
            ) from None
        if what != "binary data" or b"\x00" in content[:8192]:
            raise IntakeError(
                f"the file is {what}, not a text format the portal reads; upload {_KNOWN}",
                file=source,
            ) from None
        raise undecodable from None
    if has_front_matter(text):
        return "hf_model_card"
    if _FILING_KEY.search(text) or _FILING_SECTION.search(text):
        return "filing"
    kind = _diagnostics_kind(source, content)
    if kind is not None:
        return f"diagnostics:{kind}"
    if _MARKDOWN_HEADING.search(text):
        return "markdown_model_card"
    raise IntakeError(
        f"the file is text but not a format the portal reads (no filing_schema, front "
        f"matter, markdown heading or table header found); upload {_KNOWN}",
        file=source,
        line=1,
    )


def import_file(
    source: str, content: bytes, *, aliases: Any = None, max_bytes: int | None = None
) -> Imported:
    """Import one uploaded file, recognizing its format by its content.

    `source` is the file name as uploaded (it names the file in every error and provenance
    entry); `aliases` is passed to the diagnostics importers; `max_bytes` refuses larger
    uploads before reading them. Raises IntakeError (or IntakeErrors) for anything that
    cannot be accepted, never another exception.
    """
    if max_bytes is not None and len(content) > max_bytes:
        raise IntakeError(
            f"the file is {len(content)} bytes, more than the {max_bytes}-byte limit; "
            "split it or ask the regulator to raise the limit",
            file=source,
        )
    try:
        kind = detect_format(source, content)
        if kind.startswith("diagnostics:"):
            module = _diagnostics_module()
            assert module is not None  # detect_format only names kinds the module gave
            imported: Imported = module.import_diagnostics(source, content, aliases=aliases)
            return imported
        importer = {
            "filing": import_filing,
            "hf_model_card": import_hf_model_card,
            "markdown_model_card": import_markdown_card,
            "model_card_toolkit": import_model_card_toolkit,
            "cyclonedx": import_cyclonedx,
        }[kind]
        return importer(source, content)
    except IntakeError:
        raise
    except RecursionError:
        raise IntakeError("the file is nested too deeply to read", file=source) from None
    except Exception as error:  # a reader bug must not take the upload (or process) down
        raise IntakeError(
            f"the file could not be read ({type(error).__name__}: {error}); please report "
            "this to the regulator with the file",
            file=source,
        ) from error
