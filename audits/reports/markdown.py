"""Lab-written markdown (model card narrative, comments) to HTML that is safe to print.

Two layers, each maintained by others: markdown-it-py renders CommonMark with raw HTML
disabled, then nh3 (ammonia) keeps only a short list of text-formatting tags with no
attributes at all. Links and images never survive as such: a link prints as its text
(followed by its address when it is https), an image as its alternative text, so nothing
in a lab's text can make the renderer fetch a resource or embed a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from audits.reports.variants import is_confidential

# What a lab's prose may use on paper. No `a`, no `img`, no `style`, no attributes.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
        "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s", "span",
    }
)  # fmt: skip

# Bounds that keep one filing from turning the report into thousands of pages.
MAX_SECTION_CHARACTERS = 20_000
MAX_NARRATIVE_CHARACTERS = 60_000


def _render_link_open(
    tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    # The address is kept for link_close, which prints it as text after the link text.
    env.setdefault("link_stack", []).append(tokens[index].attrGet("href") or "")
    return ""


def _render_link_close(
    tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    stack = env.get("link_stack") or [""]
    href = str(stack.pop())
    if href.lower().startswith("https://"):
        return f" (<span>{_escape(href)}</span>)"
    return ""


def _render_image(tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[index]
    alt = "".join(child.content for child in token.children or [])
    return f"[image: {_escape(alt)}]" if alt else "[image]"


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _heading_open(tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    # Lab headings sit under our own section headings: h1–h3 become h4–h6.
    level = min(int(tokens[index].tag[1]) + 3, 6)
    return f"<h{level}>"


def _heading_close(tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    level = min(int(tokens[index].tag[1]) + 3, 6)
    return f"</h{level}>\n"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )
    assert isinstance(parser.renderer, RendererHTML)
    # The rules table is typed for bound methods; plain functions are what it calls.
    rules: dict[str, Any] = parser.renderer.rules
    rules["link_open"] = _render_link_open
    rules["link_close"] = _render_link_close
    rules["image"] = _render_image
    rules["heading_open"] = _heading_open
    rules["heading_close"] = _heading_close
    return parser


_PARSER = _parser()


def sanitize_html(html: str) -> str:
    """Keep only ALLOWED_TAGS, without attributes, comments or URLs."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


def markdown_to_safe_html(text: str, *, max_characters: int = MAX_SECTION_CHARACTERS) -> str:
    """Render lab-written markdown to sanitized HTML, truncated to `max_characters`.

    The truncation is said in the output, so a reader knows the filed text is longer.
    """
    truncated = len(text) > max_characters
    if truncated:
        text = text[:max_characters]
    html = sanitize_html(_PARSER.render(text, {}))
    if truncated:
        html += (
            f"<p><em>[Truncated: only the first {max_characters:,} characters of this "
            "section are printed; the full text is in the filed model card.]</em></p>"
        )
    return html


def narrative_sections(narrative: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The lab's narrative sections as `{"title", "html", "file", "confidential"}`, within
    the total bound."""
    sections: list[dict[str, Any]] = []
    budget = MAX_NARRATIVE_CHARACTERS
    for section in narrative or []:
        if not isinstance(section, dict):
            continue
        markdown = str(section.get("markdown") or "")
        title = str(section.get("title") or "Untitled section")[:200]
        location = section.get("location")
        file_name = str(
            section.get("file") or (location.get("file") if isinstance(location, dict) else "")
        )
        if budget <= 0:
            sections.append(
                {
                    "title": title,
                    "html": "<p><em>[Not printed: the narrative exceeds the report's "
                    "length limit; the full text is in the filed model card.]</em></p>",
                    "file": file_name,
                    "confidential": is_confidential(section),
                }
            )
            continue
        limit = min(MAX_SECTION_CHARACTERS, budget)
        budget -= min(len(markdown), limit)
        sections.append(
            {
                "title": title,
                "html": markdown_to_safe_html(markdown, max_characters=limit),
                "file": file_name,
                "confidential": is_confidential(section),
            }
        )
    return sections
