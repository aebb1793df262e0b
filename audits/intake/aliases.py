"""The metric alias file: external metric names mapped to metric catalogue ids.

Importers name diagnostics after their source (an lm-evaluation-harness task and metric, an
Inspect task, score and metric, or a table's `metric` column). The aliases say which of
those names measure a catalogue metric. The rules (exact keys, then the most specific glob)
are documented at the top of `metric_aliases.yaml`; a regulator admin adds rows without
code changes through `Aliases.extended`.

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path

import yaml

from audits.intake.catalogue import CATALOGUE
from audits.intake.types import IntakeError

DEFAULT_ALIAS_FILE = Path(__file__).with_name("metric_aliases.yaml")

# Namespaces a key may start with; a key without one names a table's `metric` column.
NAMESPACES = ("lm_eval", "lighteval", "helm", "inspect")
TABLE_NAMESPACE = "table"

_STR_TAG = "tag:yaml.org,2002:str"
_WILDCARD = re.compile(r"\[[^\]]*\]|[*?]")


@dataclass(frozen=True)
class AliasRule:
    """One row of the alias file: `key` (namespace:pattern) maps to catalogue `metric`."""

    key: str
    namespace: str
    pattern: str
    metric: str
    origin: str  # where the rule was written, for messages ("metric_aliases.yaml line 40")
    order: int  # later rules win ties, so admin rows override the shipped defaults

    @property
    def is_glob(self) -> bool:
        return _WILDCARD.search(self.pattern) is not None

    @property
    def specificity(self) -> int:
        """Literal characters in the pattern: more literal text means a narrower rule."""
        return len(_WILDCARD.sub("", self.pattern))

    @functools.cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(translate(self.pattern))

    def matches(self, name: str) -> bool:
        if self.is_glob:
            return self._regex.match(name) is not None
        return name == self.pattern


def alias_key(namespace: str, name: str) -> str:
    """The key an external name is looked up under (`lm_eval:arc_easy/acc`, `sad_score`)."""
    return name if namespace == TABLE_NAMESPACE else f"{namespace}:{name}"


class Aliases:
    """An immutable set of alias rules. Build with `load()`, add admin rows with `extended()`."""

    def __init__(self, rules: Iterable[AliasRule] = ()) -> None:
        by_key: dict[str, AliasRule] = {}
        for rule in rules:
            by_key[rule.key] = rule  # a later row with the same key replaces the earlier one
        self._rules = tuple(sorted(by_key.values(), key=lambda rule: rule.order))
        self._exact = {
            (rule.namespace, rule.pattern): rule for rule in self._rules if not rule.is_glob
        }
        # Most specific first; on equal specificity the later (admin) rule first.
        self._globs = sorted(
            (rule for rule in self._rules if rule.is_glob),
            key=lambda rule: (-rule.specificity, -rule.order),
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> Aliases:
        """Read an alias file (the shipped `metric_aliases.yaml` by default).

        Raises IntakeError naming the file, line and key of a malformed row.
        """
        path = Path(path) if path is not None else DEFAULT_ALIAS_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise IntakeError(f"cannot read the alias file: {exc}", file=str(path)) from exc
        return cls(_parse_alias_file(text, source=path.name))

    def extended(self, extra: Mapping[str, str], *, origin: str = "admin aliases") -> Aliases:
        """A new set with `extra` rows (key -> catalogue id) added on top of these rules.

        The extra rows win over existing ones with the same key and on specificity ties.
        Raises IntakeError (file = `origin`, field = the key) for a malformed row.
        """
        start = max((rule.order for rule in self._rules), default=-1) + 1
        added = [
            _make_rule(key, metric, origin=origin, order=start + index, file=origin, line=None)
            for index, (key, metric) in enumerate(extra.items())
        ]
        return Aliases([*self._rules, *added])

    @property
    def rules(self) -> tuple[AliasRule, ...]:
        return self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def match(self, namespace: str, name: str) -> AliasRule | None:
        """The rule that maps `name` from `namespace` ("lm_eval", "inspect", "table")."""
        exact = self._exact.get((namespace, name))
        if exact is not None:
            return exact
        for rule in self._globs:
            if rule.namespace == namespace and rule.matches(name):
                return rule
        return None

    def resolve(self, namespace: str, name: str) -> str | None:
        """The catalogue id `name` maps to, or None if no rule maps it."""
        rule = self.match(namespace, name)
        return rule.metric if rule is not None else None


@functools.cache
def default_aliases() -> Aliases:
    """The shipped alias file, loaded once per process."""
    return Aliases.load()


def _make_rule(
    key: object, metric: object, *, origin: str, order: int, file: str, line: int | None
) -> AliasRule:
    if not isinstance(key, str) or not key.strip():
        raise IntakeError(
            "an alias key must be a non-empty text such as 'lm_eval:sad/acc'",
            file=file,
            line=line,
            field=str(key),
        )
    key = key.strip()
    namespace, sep, pattern = key.partition(":")
    if not sep:
        namespace, pattern = TABLE_NAMESPACE, key
    elif namespace not in NAMESPACES:
        raise IntakeError(
            f"unknown alias namespace {namespace!r}; use one of "
            + ", ".join(f"'{name}:'" for name in NAMESPACES)
            + ", or no namespace for a table's metric name",
            file=file,
            line=line,
            field=key,
        )
    if not pattern:
        raise IntakeError(
            "the alias key names no metric after the namespace", file=file, line=line, field=key
        )
    if not isinstance(metric, str) or metric not in CATALOGUE:
        raise IntakeError(
            f"alias target {metric!r} is not a metric catalogue id; use one of: "
            + ", ".join(sorted(CATALOGUE)),
            file=file,
            line=line,
            field=key,
        )
    return AliasRule(
        key=key, namespace=namespace, pattern=pattern, metric=metric, origin=origin, order=order
    )


def _parse_alias_file(text: str, *, source: str) -> list[AliasRule]:
    # Composing (not constructing) keeps line numbers for messages, builds no Python objects
    # from tags, and lets us refuse duplicate keys, which PyYAML would silently overwrite.
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise IntakeError(
            f"the alias file is not valid YAML: {exc}",
            file=source,
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    if not isinstance(root, yaml.MappingNode):
        raise IntakeError(
            "the alias file must be a mapping with 'version: 1' and 'aliases:'", file=source
        )
    sections = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    unknown = sorted(set(sections) - {"version", "aliases"})
    if unknown:
        raise IntakeError(
            f"unknown top-level key {unknown[0]!r}; allowed: version, aliases",
            file=source,
            field=unknown[0],
        )
    version = sections.get("version")
    if not isinstance(version, yaml.ScalarNode) or version.value != "1":
        raise IntakeError("the alias file must say 'version: 1'", file=source, field="version")
    aliases = sections.get("aliases")
    if aliases is None or (isinstance(aliases, yaml.ScalarNode) and aliases.value in ("", "~")):
        return []
    if not isinstance(aliases, yaml.MappingNode):
        raise IntakeError("'aliases' must map keys to catalogue ids", file=source, field="aliases")
    rules: list[AliasRule] = []
    seen: dict[str, int] = {}
    for order, (key_node, value_node) in enumerate(aliases.value):
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.ScalarNode):
            raise IntakeError(
                "each alias must be 'key: catalogue_id' (text: text)",
                file=source,
                line=line,
                field="aliases",
            )
        if key_node.tag != _STR_TAG or value_node.tag != _STR_TAG:
            # Tags are never constructed here, but a tagged row is not what an admin meant.
            raise IntakeError(
                "each alias must be plain text on both sides (no YAML tags)",
                file=source,
                line=line,
                field=key_node.value,
            )
        key = key_node.value.strip()
        if key in seen:
            raise IntakeError(
                f"duplicate alias key {key!r} (first at line {seen[key]}); keep one row",
                file=source,
                line=line,
                field=key,
            )
        seen[key] = line
        rules.append(
            _make_rule(
                key,
                value_node.value,
                origin=f"{source} line {line}",
                order=order,
                file=source,
                line=line,
            )
        )
    return rules
