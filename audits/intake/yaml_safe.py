"""Safe, bounded YAML reading for filings and model-card front matter.

`yaml.safe_load` is not enough for uploads from outside:

- it builds a billion-laughs alias bomb into a structure that explodes when walked;
- it follows YAML 1.1, where `7.0e9` and `1e21` are *strings* and `no` is `False`;
- its errors do not say which uploaded file they are about.

This module keeps PyYAML's scanner and parser (well kept, streaming) and replaces the
resolver and the composer checks: YAML 1.2 core schema scalars (numbers as a lab writes
them, `true`/`false` only, dates kept as text), only the standard tags, a bounded number of
aliases, a bounded expanded size and a bounded nesting depth. Every error is an
`IntakeError` naming the file and line.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from audits.intake.types import IntakeError

# Generous for a filing or a model card, far below anything that hurts.
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000

TAG_NULL = "tag:yaml.org,2002:null"
TAG_BOOL = "tag:yaml.org,2002:bool"
TAG_INT = "tag:yaml.org,2002:int"
TAG_FLOAT = "tag:yaml.org,2002:float"
TAG_STR = "tag:yaml.org,2002:str"
TAG_SEQ = "tag:yaml.org,2002:seq"
TAG_MAP = "tag:yaml.org,2002:map"
TAG_MERGE = "tag:yaml.org,2002:merge"
ALLOWED_TAGS = frozenset({TAG_NULL, TAG_BOOL, TAG_INT, TAG_FLOAT, TAG_STR, TAG_SEQ, TAG_MAP})

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode_utf8(content: bytes, *, source: str) -> str:
    """Decode an upload as UTF-8 (a UTF-8 byte-order mark is allowed and dropped).

    Raises IntakeError naming the encoding found (UTF-16/32 byte-order mark, NUL bytes of
    UTF-16 text) or the first invalid byte's offset and line.
    """
    for bom, name in _BOMS:
        if content.startswith(bom):
            raise IntakeError(
                f"the file is {name} text (it starts with a {name} byte-order mark); "
                "save it as UTF-8 and upload it again",
                file=source,
                line=1,
            )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise IntakeError(
            f"the file is not UTF-8 text: byte {error.start} (0x{content[error.start]:02x}) "
            f"on line {line} is not valid UTF-8 (Latin-1 or Windows-1252 text?); "
            "save it as UTF-8 and upload it again",
            file=source,
            line=line,
        ) from None
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise IntakeError(
            f"the file contains a NUL character (line {line}, column {column}), which text "
            "cannot hold (if the file is UTF-16, save it as UTF-8); remove it and upload the "
            "file again",
            file=source,
            line=line,
        )
    return text.removeprefix("\ufeff")


class _Core12Resolver(BaseResolver):
    """YAML 1.2 core schema scalar resolution, which is what a lab writing YAML expects."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # our own table, not the base one


_Core12Resolver.add_implicit_resolver(
    TAG_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Core12Resolver.add_implicit_resolver(
    TAG_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Core12Resolver.add_implicit_resolver(
    TAG_INT,
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Core12Resolver.add_implicit_resolver(
    TAG_FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Core12Resolver.add_implicit_resolver(TAG_MERGE, re.compile(r"^<<$"), ["<"])


class _Core12Constructor(SafeConstructor):
    """Builds only plain data; ints in 1.2 notation; duplicate keys are an error."""

    yaml_constructors: ClassVar[dict[Any, Any]] = {}

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == TAG_MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first_line = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if first_line is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first given on line {first_line}); give each key once",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


for _tag, _constructor in (
    (TAG_NULL, SafeConstructor.construct_yaml_null),
    (TAG_BOOL, SafeConstructor.construct_yaml_bool),
    (TAG_INT, _Core12Constructor.construct_yaml_int),
    (TAG_FLOAT, _Core12Constructor.construct_yaml_float),
    (TAG_STR, SafeConstructor.construct_yaml_str),
    (TAG_SEQ, SafeConstructor.construct_yaml_seq),
    (TAG_MAP, SafeConstructor.construct_yaml_map),
):
    _Core12Constructor.add_constructor(_tag, _constructor)  # type: ignore[type-var]


class _Refused(yaml.composer.ComposerError):
    """A document PyYAML could read but we refuse (tag, alias bomb, depth)."""


class _BoundedLoader(Reader, Scanner, Parser, Composer, _Core12Constructor, _Core12Resolver):
    """PyYAML's pure-Python pipeline with bounds checked while composing."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Core12Constructor.__init__(self)
        _Core12Resolver.__init__(self)
        self.alias_count = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise _Refused(
                    None,
                    None,
                    f"more than {MAX_ALIASES} aliases (*name): refused as a possible alias "
                    "bomb; write the values out instead",
                    event.start_mark,
                )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            event = self.peek_event()
            raise _Refused(
                None,
                None,
                f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
                event.start_mark,
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if node is not None and node.tag not in ALLOWED_TAGS and node.tag != TAG_MERGE:
            raise _Refused(
                None,
                None,
                f"the tag {node.tag!r} is not allowed: only plain data (text, numbers, "
                "true/false, null, lists and mappings) is accepted; remove the tag",
                node.start_mark,
            )
        return node


@dataclass
class YamlDocument:
    """A loaded YAML document and the line (1-based) of every key and list item by path."""

    value: Any
    lines: dict[str, int] = field(default_factory=dict)


def _expanded_size(root: Node) -> int:
    """Count nodes as a walk of the built value would see them; refuse cycles."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # Iterative post-order walk so a deep (but legal) document cannot exhaust the stack.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            active.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > MAX_EXPANDED_NODES:
                raise _Refused(
                    None,
                    None,
                    f"the document expands to more than {MAX_EXPANDED_NODES} values through "
                    "aliases (an alias bomb?); write the values out instead",
                    node.start_mark,
                )
            sizes[key] = total
            continue
        if key in active:
            raise _Refused(
                None, None, "an alias refers to a value containing itself", node.start_mark
            )
        active.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in active:
                raise _Refused(
                    None, None, "an alias refers to a value containing itself", child.start_mark
                )
            stack.append((child, False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _key_lines(node: Node, prefix: str = "") -> Iterator[tuple[str, int]]:
    """Yield (path, line) for every mapping key and list item under `node`."""
    stack: list[tuple[Node, str]] = [(node, prefix)]
    while stack:
        current, path = stack.pop()
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == TAG_MERGE:
                    continue
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                yield child, key_node.start_mark.line + 1
                stack.append((value_node, child))
        elif isinstance(current, SequenceNode):
            for index, item in enumerate(current.value):
                child = f"{path}[{index}]"
                yield child, item.start_mark.line + 1
                stack.append((item, child))


def _yaml_error(error: yaml.YAMLError, source: str, line_offset: int) -> IntakeError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if isinstance(error, _Refused):
        return IntakeError(problem, file=source, line=line)
    message = f"not valid YAML: {problem}"
    if context:
        message += f" ({context})"
    if "end of the stream" in problem or "end of stream" in problem:
        message += "; the file looks truncated or a quote/bracket is not closed"
    return IntakeError(message, file=source, line=line)


def load_yaml(content: bytes | str, *, source: str, line_offset: int = 0) -> YamlDocument:
    """Load one YAML document safely, with YAML 1.2 core scalars and bounds.

    `line_offset` is added to every reported line (for front matter inside a larger file).
    Raises IntakeError (file + line) for invalid UTF-8, invalid or truncated YAML, more than
    one document, object-building or unknown tags, alias bombs and excessive nesting.
    """
    text = decode_utf8(content, source=source) if isinstance(content, bytes) else content
    try:
        # The reader checks characters as it is built, so building it can fail too.
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1 + line_offset
        raise IntakeError(
            f"the file contains the control character #x{error.character:04x} on line {line}, "
            "which YAML does not allow; remove it",
            file=source,
            line=line,
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(value=None)
        _expanded_size(node)
        value = loader.construct_document(node)
        lines = {path: line + line_offset for path, line in _key_lines(node)}
    except yaml.YAMLError as error:
        raise _yaml_error(error, source, line_offset) from None
    except RecursionError:
        raise IntakeError(
            "the YAML is nested too deeply to read; flatten the document", file=source
        ) from None
    except (ValueError, OverflowError) as error:
        # int("9" * 5000) and similar: Python refuses absurd numbers.
        raise IntakeError(
            f"a number cannot be read ({error}); write it in scientific notation (7.0e9)",
            file=source,
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(value=value, lines=lines)
