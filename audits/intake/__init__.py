"""Intake: every input a lab uploads becomes facts with provenance (pure Python, no Django).

`import_file` recognizes the format by the bytes (not the file extension) and returns an
`Imported`; `merge` turns the imports of a submission revision into `Facts`. Every
supported format and how it maps to facts is listed in docs/formats.md.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from audits.intake.catalogue import (
    CATALOGUE,
    check_metric_value,
    unscored_diagnostics,
    unscored_summary,
)
from audits.intake.cyclonedx import import_cyclonedx, looks_like_cyclonedx
from audits.intake.diagnostics.common import KINDS as DIAGNOSTIC_KINDS
from audits.intake.diagnostics.common import looks_binary
from audits.intake.diagnostics.recognize import sniff as sniff_diagnostics
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
    refuse_nul,
)
from audits.intake.yaml_safe import decode_utf8

__all__ = [
    "CATALOGUE",
    "DIAGNOSTIC_KINDS",
    "MODEL_CARD_KINDS",
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
    "unscored_diagnostics",
    "unscored_summary",
    "validate_filing",
]

# The kinds a model-card upload may be (everything that is not diagnostics).
MODEL_CARD_KINDS = frozenset(
    {"filing", "hf_model_card", "markdown_model_card", "model_card_toolkit", "cyclonedx"}
)
Expect = Literal["any", "model_card", "diagnostics"]

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
_KNOWN_CARDS = (
    "a filing (YAML/JSON with filing_schema), a Hugging Face model card (README.md with ---"
    " front matter), a markdown model card, Model Card Toolkit JSON, or a CycloneDX ML-BOM"
)
_KNOWN_DIAGNOSTICS = (
    "a diagnostics file (CSV/TSV/JSON table, lm-evaluation-harness or lighteval results, a "
    "zipped HELM run, an Inspect log)"
)
_KNOWN: dict[str, str] = {
    "any": f"{_KNOWN_CARDS}, or {_KNOWN_DIAGNOSTICS}",
    "model_card": _KNOWN_CARDS,
    "diagnostics": _KNOWN_DIAGNOSTICS,
}
_DESCRIBED = {
    "filing": "a filing",
    "hf_model_card": "a Hugging Face model card",
    "markdown_model_card": "a markdown model card",
    "model_card_toolkit": "a Model Card Toolkit file",
    "cyclonedx": "a CycloneDX ML-BOM",
}


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


def detect_format(source: str, content: bytes, *, expect: Expect = "any") -> str:
    """The input kind of `content`: "filing", "hf_model_card", "markdown_model_card",
    "model_card_toolkit", "cyclonedx", or a diagnostics kind ("diagnostics:<kind>").

    `expect` is the upload slot ("model_card" or "diagnostics"): a file of the other slot's
    kind is refused, and a file that is nothing known is told the formats of this slot only.
    Raises IntakeError naming the file and what was found when nothing fits.
    """
    kind = _detect(source, content, expect)
    if expect == "diagnostics" and not kind.startswith("diagnostics:"):
        raise IntakeError(
            f"this is {_DESCRIBED[kind]}, not a diagnostics file; upload it as the model card, "
            f"or upload {_KNOWN['diagnostics']} here",
            file=source,
        )
    if expect == "model_card" and kind.startswith("diagnostics:"):
        raise IntakeError(
            f"this is a diagnostics file ({kind.split(':', 1)[1]}); upload it as diagnostics, "
            "not as a model card",
            file=source,
        )
    return kind


def _detect(source: str, content: bytes, expect: Expect) -> str:
    known = _KNOWN[expect]
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
        sniffed = sniff_diagnostics(source, content)
        if sniffed.kind is not None:
            return f"diagnostics:{sniffed.kind}"
        keys = ", ".join(map(str, list(document)[:8])) if isinstance(document, dict) else ""
        found = f"JSON with keys {keys}" if isinstance(document, dict) else "a JSON list"
        raise IntakeError(f"{found} is not a format the portal reads; upload {known}", file=source)
    try:
        text = decode_utf8(content, source=source)
    except IntakeError as undecodable:
        sniffed = sniff_diagnostics(source, content)  # e.g. a zipped Inspect `.eval` log
        if sniffed.kind is not None:
            return f"diagnostics:{sniffed.kind}"
        if "UTF-16" in undecodable.message or "UTF-32" in undecodable.message:
            raise
        what = _what_binary(content)
        if what == "binary data" and _looks_like_utf16(content):
            raise IntakeError(
                "the file looks like UTF-16 text without a byte-order mark (every other byte "
                "is NUL); save it as UTF-8 and upload it again",
                file=source,
            ) from None
        if what != "binary data" or looks_binary(content):
            raise IntakeError(
                f"the file is {what}, not a text format the portal reads; upload {known}",
                file=source,
            ) from None
        raise undecodable from None  # text with a bad byte or a NUL: its line is named
    if has_front_matter(text):
        return "hf_model_card"
    if _FILING_KEY.search(text) or _FILING_SECTION.search(text):
        return "filing"
    sniffed = sniff_diagnostics(source, content)
    if sniffed.kind is not None:
        return f"diagnostics:{sniffed.kind}"
    if _MARKDOWN_HEADING.search(text) and expect != "diagnostics":
        return "markdown_model_card"
    if sniffed.problem is not None and sniffed.problem.message.startswith("a table whose"):
        raise sniffed.problem  # a table with the wrong columns: say which were expected
    looked_for = (
        "no table header, results JSON or log found"
        if expect == "diagnostics"
        else "no filing_schema, front matter, markdown heading or table header found"
    )
    raise IntakeError(
        f"the file is text but not a format the portal reads ({looked_for}); upload {known}",
        file=source,
        line=1,
    )


def import_file(
    source: str,
    content: bytes,
    *,
    aliases: Any = None,
    max_bytes: int | None = None,
    expect: Expect = "any",
) -> Imported:
    """Import one uploaded file, recognizing its format by its content.

    `source` is the file name as uploaded (it names the file in every error and provenance
    entry); `aliases` is passed to the diagnostics importers; `max_bytes` refuses larger
    uploads before reading them; `expect` is the upload slot (see `detect_format`). Raises
    IntakeError (or IntakeErrors) for anything that cannot be accepted, never another
    exception; a text with a NUL character (which the database cannot store) is refused
    with the place it came from.
    """
    if max_bytes is not None and len(content) > max_bytes:
        raise IntakeError(
            f"the file is {len(content)} bytes, more than the {max_bytes}-byte limit; "
            "split it or ask the regulator to raise the limit",
            file=source,
        )
    try:
        kind = detect_format(source, content, expect=expect)
        if kind.startswith("diagnostics:"):
            from audits.intake.diagnostics import import_diagnostics  # pandas: loaded on use

            imported = import_diagnostics(source, content, aliases=aliases)
        else:
            importer = {
                "filing": import_filing,
                "hf_model_card": import_hf_model_card,
                "markdown_model_card": import_markdown_card,
                "model_card_toolkit": import_model_card_toolkit,
                "cyclonedx": import_cyclonedx,
            }[kind]
            imported = importer(source, content)
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
    refuse_nul(imported)
    return imported
