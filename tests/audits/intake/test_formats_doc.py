"""docs/formats.md stays true: every row's example file exists and imports as that kind."""

from __future__ import annotations

import re

import pytest

from audits.intake import DIAGNOSTIC_KINDS, MODEL_CARD_KINDS, import_file
from tests.audits.intake.cards_support import REPO_ROOT
from tests.audits.intake.diagnostics_helpers import zipped_directory

DOC = REPO_ROOT / "docs" / "formats.md"


def _rows() -> list[tuple[str, str, str]]:
    """(format, kind, example path) of each row of the formats table."""
    rows: list[tuple[str, str, str]] = []
    kind = ""
    table = DOC.read_text(encoding="utf-8").split("## Formats", 1)[1].split("\n## ", 1)[0]
    for line in table.splitlines():
        if not line.startswith("| ") or line.startswith("| format") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 4, line
        named = re.search(r"\(`([a-z_]+)`\)", cells[0])
        if named:
            kind = named[1]
        else:
            assert cells[0].startswith("—"), f"a row without a kind must be a variant: {line}"
        example = re.search(r"`(tests/data/[^`]+)`", cells[3])
        assert example, f"a row without an example under tests/data/: {line}"
        rows.append((cells[0], kind, example[1]))
    return rows


ROWS = _rows()


def test_the_table_covers_every_kind() -> None:
    assert {kind for _, kind, _ in ROWS} == DIAGNOSTIC_KINDS | MODEL_CARD_KINDS
    assert len(ROWS) >= 24


@pytest.mark.parametrize(("title", "kind", "example"), ROWS, ids=[row[2] for row in ROWS])
def test_every_example_imports_as_its_row_says(title: str, kind: str, example: str) -> None:
    path = REPO_ROOT / example
    assert path.exists(), example
    content = zipped_directory(path) if path.is_dir() else path.read_bytes()
    imported = import_file(path.name, content)
    assert imported.kind == kind, title
    assert imported.fields or imported.diagnostics or imported.narrative, title
