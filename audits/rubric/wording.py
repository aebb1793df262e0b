"""How explanations are worded: fact values as text and a rubric's templates, compiled once.

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from math import isfinite
from typing import Any

from audits.rubric.vocabulary import diagnostic_metric


def format_value(value: Any) -> str:
    """A fact value as explanations show it: the value as filed, booleans as in YAML,
    numbers of a million or more in scientific notation (`3.4e10`, `3.0e24`)."""
    kind = value.__class__
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is float or kind is int:
        return _scientific(value) if isfinite(value) and abs(value) >= 1e6 else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(member) for member in value) + "]"
    return str(value)


@lru_cache(maxsize=4096)  # filings repeat their magnitudes; an int and an equal float agree
def _scientific(number: int | float) -> str:
    """`34000000000.0` -> `3.4e10`, with every significant digit of the value as filed.

    repr() gives a float's shortest exact digits (`34000000000.0`, `3e+24`, `1.2345e+17`);
    they are moved, never rounded. Only called for finite numbers of at least a million,
    whose repr has no leading zeros.
    """
    text = repr(number)
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).rstrip("0") or "0"
    power = (int(exponent) if exponent else 0) + len(whole) - 1
    return f"{sign}{digits[0]}.{digits[1:] or '0'}e{power}"


def percent_format(
    template: str, signature: Sequence[str], bound: Mapping[str, str] | None = None
) -> tuple[str, tuple[int, ...]]:
    """`template` as a %-format string with `bound` fields filled in, and the index in
    `signature` of the field each remaining `%s` takes.

    Templates are written with `{name}` fields (str.format style) so a regulator can read
    them; str.format with keywords costs about a microsecond per call, a %-format a tenth.
    """
    bound = bound or {}
    pieces: list[str] = []
    order: list[int] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        pieces.append(literal.replace("%", "%%"))
        if name is None:
            continue
        if name in bound:
            pieces.append(bound[name].replace("%", "%%"))
        else:
            pieces.append("%s")
            order.append(list(signature).index(name))
    return "".join(pieces), tuple(order)


def compile_template(
    template: str, signature: Sequence[str], bound: Mapping[str, str] | None = None
) -> Callable[..., str]:
    """A renderer for an explanation template taking `signature`'s fields positionally."""
    fmt, order = percent_format(template, signature, bound)
    if order == tuple(range(len(signature))):
        return lambda *fields: fmt % fields
    if not order:
        text = fmt % ()
        return lambda *fields: text
    return lambda *fields: fmt % tuple(fields[index] for index in order)


class Wording:
    """A rubric's explanation templates."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self.templates = templates
        self.separator = templates["group_separator"]
        self._fact_missing = compile_template(templates["fact_missing"], ("path",))
        self._missing_texts: dict[str, str] = {}

    def expression(self, key: str, fields: Mapping[str, str], **bound: Any) -> str:
        """Python source rendering template `key`: `fields` maps each field to the source
        of its value, `bound` fields are filled in now (for generated code)."""
        fmt, order = percent_format(
            self.templates[key], list(fields), {name: str(value) for name, value in bound.items()}
        )
        if not order:
            return repr(fmt % ())
        sources = list(fields.values())
        return f"({fmt!r} % ({''.join(sources[index] + ', ' for index in order)}))"

    def text(self, key: str, **fields: Any) -> str:
        """Template `key` with every field given."""
        return self.templates[key].format(**fields)

    def missing(self, paths: Sequence[str]) -> str:
        """ "a is not supplied and b is not supplied": what left a condition undecided."""
        texts = self._missing_texts
        for path in paths:
            if path not in texts:
                texts[path] = self._fact_missing(path)
        return self.separator.join([texts[path] for path in paths])

    def resolve(self, paths: Sequence[str], *, every: bool = False) -> str:
        """What to supply: "diagnostic a or b", "x in the filing", or both; with `every`,
        all of them ("x and y in the filing")."""
        templates = self.templates
        separator = self.separator if every else templates["alternative_separator"]
        metrics = [metric for metric in map(diagnostic_metric, paths) if metric is not None]
        facts = [path for path in paths if diagnostic_metric(path) is None]
        pieces = []
        if metrics:
            pieces.append(templates["resolve_diagnostics"].format(metrics=separator.join(metrics)))
        if facts:
            pieces.append(templates["resolve_facts"].format(paths=separator.join(facts)))
        return separator.join(pieces)
