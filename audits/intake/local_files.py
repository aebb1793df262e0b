"""Facts from files on disk, for the command line (`manage.py facts`, `manage.py assess`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from audits.intake import Facts, import_file, merge
from audits.intake.aliases import Aliases
from audits.intake.types import IntakeError


def facts_from_paths(paths: Iterable[str | Path], *, aliases: Aliases | None = None) -> Facts:
    """Import each file (format recognized by content) and merge them into one facts document.

    Raises IntakeError naming the file for anything unreadable, invalid or conflicting.
    """
    imports = []
    for path in map(Path, paths):
        try:
            content = path.read_bytes()
        except OSError as error:
            raise IntakeError(f"cannot read the file: {error.strerror}", file=str(path)) from None
        imports.append(import_file(path.name, content, aliases=aliases))
    if not imports:
        raise IntakeError("no input files given", file="(command line)")
    return merge(imports)
