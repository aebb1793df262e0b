"""The two ways input to the engine can be wrong: a rubric, or a facts document.

Pure Python: nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Sequence


class RubricError(ValueError):
    """A rubric document that cannot be used; `path` names the offending element."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        source: str = "",
        errors: Sequence[RubricError] = (),
    ) -> None:
        self.message = message
        self.path = path
        self.source = source
        # Every error found in the document, this one first (a validation reports them all).
        self.errors: list[RubricError] = list(errors) or [self]
        where = ", ".join(part for part in (source, f"at {path}" if path else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class FactsError(ValueError):
    """A facts document the rubric cannot read (a value outside the filing schema)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
