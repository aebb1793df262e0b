"""Plain markdown model cards (Llama, GPT-2, Whisper, CLIP): a name and narrative sections.

A prose card states facts in sentences and tables whose wording varies from lab to lab, so
reading values out of it would be guessing. We take only the model name and keep the prose,
split by headings, for the report; every filing field is then reported missing and the lab
is told to give it in a filing.

The name is, in order: a level-1 heading that says "model card" ("Model Card for Zephyr"),
another level-1 heading, a lower heading that says "model card", or a line that names it
("Model name: Atlas", "**Model:** Atlas"). A heading that is a file name or an address
(`# README.md`, `# https://github.com/...`) is not a name. With none, model.name is missing
and a warning says so.

A section the lab wants kept out of the public report carries the HTML comment
`<!-- govportal:confidential -->` (invisible where the card is rendered) anywhere in its
text; the comment is removed from the narrative and the section is marked confidential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from audits.intake.types import Imported, IntakeError, Location, NarrativeSection
from audits.intake.yaml_safe import decode_utf8

PREAMBLE_TITLE = "Preamble"
_MARKDOWN = MarkdownIt("commonmark")
_CARD_WORDS = re.compile(
    r"^\s*(?:model\s+card\s*(?:for|of|:|-|\u2013)?\s*)|\s*[-\u2013:]?\s*model\s+card\s*$",
    re.IGNORECASE,
)
CONFIDENTIAL_MARK = re.compile(r"[ \t]*<!--\s*govportal\s*:\s*confidential\s*-->[ \t]*\n?", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_FILE_NAME = re.compile(
    r"[\w./~-]*\.(?:md|markdown|mdx|txt|rst|json|ya?ml|html?|ipynb|py|pdf)|readme|model[_ -]?card",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?model(?:\s+name)?(?:\*\*|__)?\s*:\s*(?:\*\*|__)?"
    r"(?P<name>[^*_\n][^\n]*?)(?:\*\*|__)?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Heading:
    """A heading of the card: level (1-6), plain text and 1-based line."""

    level: int
    text: str
    line: int
    end_line: int


def _plain_text(inline: Token) -> str:
    """The visible text of a heading: markup, links and HTML tags dropped, <br> kept as a break."""
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak" or child.type == "hardbreak":
            parts.append(" ")
        elif child.type == "html_inline" and re.match(r"<br\s*/?>", child.content, re.I):
            parts.append("\n")
    return "".join(parts).strip()


def headings(markdown: str, *, line_offset: int = 0) -> list[Heading]:
    """The headings of `markdown` (ATX and setext; not those inside code blocks)."""
    tokens = _MARKDOWN.parse(markdown)
    found: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        found.append(
            Heading(
                level=int(token.tag[1:]),
                text=_plain_text(tokens[index + 1]),
                line=token.map[0] + 1 + line_offset,
                end_line=token.map[1] + line_offset,
            )
        )
    return found


def split_sections(markdown: str, *, source: str, line_offset: int = 0) -> list[NarrativeSection]:
    """Split `markdown` into sections at every heading; empty sections are dropped.

    The text before the first heading becomes a section titled "Preamble". Each section's
    location is its heading's line (counted in the whole file when `line_offset` is given).
    """
    lines = markdown.splitlines()
    found = headings(markdown)
    sections: list[NarrativeSection] = []
    starts = [(PREAMBLE_TITLE, 0, 0)] + [
        (
            " ".join(h.text.split()) or f"(untitled heading, line {h.line + line_offset})",
            h.line - 1,
            h.end_line,
        )
        for h in found
    ]
    for position, (title, heading_index, body_start) in enumerate(starts):
        body_end = starts[position + 1][1] if position + 1 < len(starts) else len(lines)
        body = "\n".join(lines[body_start:body_end]).strip("\n")
        confidential = CONFIDENTIAL_MARK.search(body) is not None
        body = CONFIDENTIAL_MARK.sub("", body).strip("\n")
        if not body.strip():
            continue
        sections.append(
            NarrativeSection(
                title=title,
                markdown=body,
                location=Location(
                    file=source,
                    line=heading_index + 1 + line_offset,
                    field=None if title == PREAMBLE_TITLE else "heading",
                ),
                confidential=confidential,
            )
        )
    return sections


def clean_title(text: str) -> str:
    """`Model Card for Zephyr 7B β` -> `Zephyr 7B β`; `GPT-2 model card` -> `GPT-2`."""
    for piece in text.split("\n"):
        name = _CARD_WORDS.sub("", " ".join(piece.split())).strip(" .:-\u2013*_#")
        if name:
            return name
    return ""


def looks_like_file_or_address(text: str) -> bool:
    """`README.md`, `models/llama3/MODEL_CARD.md`, `https://github.com/...`: not a name."""
    text = text.strip().strip("<>")
    return bool(_URL.fullmatch(text) or _FILE_NAME.fullmatch(text))


def title_name(markdown: str, *, line_offset: int = 0) -> tuple[str, int, str] | None:
    """The model name the card's prose gives: (name, line, "heading" or "text"), or None.

    See the module docstring for the order; section headings that do not say "model card"
    are never a name: "Model Information" is not what the Llama 3.1 model is called.
    """
    found = headings(markdown, line_offset=line_offset)
    titles = [h for h in found if h.level == 1]
    says_card = [h for h in titles if "model card" in h.text.lower()]
    lower = [h for h in found if h.level > 1 and "model card" in h.text.lower()]
    for heading in (*says_card, *titles, *lower):
        name = clean_title(heading.text)
        if name and not looks_like_file_or_address(name):
            return name, heading.line, "heading"
    match = _NAME_LINE.search(markdown)
    if match is not None:
        name = match["name"].strip().strip("`")
        if name and not looks_like_file_or_address(name):
            return name, markdown.count("\n", 0, match.start("name")) + 1 + line_offset, "text"
    return None


def import_markdown_card(source: str, content: bytes) -> Imported:
    """Import a plain markdown model card: `model.name` (see the module), prose as narrative.

    Nothing else is read from the prose (no guessing); a card that names no model gives a
    warning saying model.name must come from the filing.
    """
    text = decode_utf8(content, source=source)
    if not text.strip():
        raise IntakeError("the model card is empty", file=source)
    imported = Imported(source=source, kind="markdown_model_card")
    found = title_name(text)
    if found is None:
        imported.warn(
            "the card has no heading or line that names the model (a title such as "
            "'# Model Card for Atlas', or 'Model name: Atlas'; a file name or an address is "
            "not a name), so model.name is missing; give it in the filing",
            Location(file=source, line=1),
        )
    else:
        name, line, field = found
        imported.set_fact("model.name", name, Location(file=source, line=line, field=field))
    imported.narrative.extend(split_sections(text, source=source))
    return imported
