"""Loading rubric files: parse the YAML strictly, validate, checksum.

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audits.canonical import sha256_hex
from audits.rubric.checks import validate_rubric
from audits.rubric.errors import RubricError

# The rubric files shipped with the project.
RUBRICS_DIRECTORY = Path(__file__).resolve().parent.parent / "rubrics"


class _RubricYamlLoader(yaml.SafeLoader):
    """Safe YAML with two fixes that matter for regulator-written files.

    PyYAML follows YAML 1.1, which reads `1e8` as a string; YAML 1.2 (and every author)
    reads it as a number. And PyYAML silently keeps the last of two equal keys, which would
    let a duplicated `weight:` go unnoticed.
    """


_RubricYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_RubricYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


def _construct_mapping_without_duplicates(
    loader: _RubricYamlLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise RubricError(
                f"duplicate key {key!r} (first at line {seen[key] + 1}, again at line "
                f"{key_node.start_mark.line + 1})"
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_RubricYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_without_duplicates,
)


@dataclass(frozen=True)
class Rubric:
    """A validated rubric document and its identity.

    `sha256` is taken over the canonical JSON of the parsed content, so comments and
    formatting do not change it and any change of meaning does. Treat `content` as
    read-only: a changed rubric is a new version.
    """

    urn: str
    version: str
    sha256: str
    content: dict[str, Any] = field(repr=False, compare=False)
    source: str = field(default="", compare=False)

    @property
    def reference(self) -> str:
        """`urn@version`, the form commands take (`--rubric URN@VERSION`)."""
        return f"{self.urn}@{self.version}"

    @property
    def version_key(self) -> tuple[int, ...]:
        """The semantic version as numbers, for ordering versions."""
        return tuple(int(part) for part in self.version.split("."))


def load_rubric_text(text: str, *, source: str = "<text>") -> Rubric:
    """Parse, validate and checksum a rubric given as YAML (or JSON) text.

    Raises RubricError naming the source and the path of the first error.
    """
    try:
        content = yaml.load(text, Loader=_RubricYamlLoader)  # noqa: S506 - a SafeLoader
    except RubricError as error:
        raise RubricError(error.message, source=source) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RubricError(f"{where}not valid YAML: {error}", source=source) from None
    if not isinstance(content, dict):
        raise RubricError("a rubric file is a YAML mapping", source=source)
    validate_rubric(content, source=source)
    return Rubric(
        urn=content["urn"],
        version=content["version"],
        sha256=sha256_hex(content),
        content=content,
        source=source,
    )


def load_rubric(path: str | Path) -> Rubric:
    """Load one rubric file. Raises RubricError (with the file name) if it is invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RubricError(f"cannot read rubric file: {error.strerror}", source=str(path)) from None
    return load_rubric_text(text, source=str(path))


def available_rubrics(directory: str | Path = RUBRICS_DIRECTORY) -> list[Rubric]:
    """Every rubric file (`*.yaml`, `*.yml`) in `directory`, ordered by urn then version.

    Two files claiming the same urn and version with different content are an error: a
    published version never changes.
    """
    found: dict[tuple[str, str], Rubric] = {}
    paths = sorted([*Path(directory).glob("*.yaml"), *Path(directory).glob("*.yml")])
    for path in paths:
        rubric = load_rubric(path)
        key = (rubric.urn, rubric.version)
        earlier = found.get(key)
        if earlier is not None and earlier.sha256 != rubric.sha256:
            raise RubricError(
                f"{rubric.reference} is also defined, with different content, in {earlier.source}",
                source=str(path),
            )
        found.setdefault(key, rubric)
    return sorted(found.values(), key=lambda rubric: (rubric.urn, rubric.version_key))


def find_rubric(rubrics: list[Rubric], reference: str) -> Rubric:
    """The rubric named `urn@version`, or the newest version of `urn` when no version is given."""
    urn, _, version = reference.partition("@")
    matches = [rubric for rubric in rubrics if rubric.urn == urn]
    if version:
        matches = [rubric for rubric in matches if rubric.version == version]
    if not matches:
        known = ", ".join(rubric.reference for rubric in rubrics) or "none"
        raise RubricError(f"no rubric {reference!r}; available: {known}")
    return max(matches, key=lambda rubric: rubric.version_key)
