"""CSV and XLSX writing where no cell can run as a formula (OWASP "CSV injection").

Lab-supplied text (model names, rationales) reaches a regulator's spreadsheet. In CSV, which
has no cell types, a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
is prefixed with a single quote, so spreadsheet programs show it as text. In XLSX every text
cell is stored typed as a string, which no program evaluates, so the text stays exactly as
written. Numbers stay numbers in both.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot carry most control characters; openpyxl refuses them, so they are dropped.
_ILLEGAL_XML = {code: None for code in range(32) if chr(code) not in "\t\n\r"}


def safe_text(value: str) -> str:
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_cell(value: Any, *, defuse: bool = True) -> Any:
    """A cell value that a spreadsheet shows as data: text is defused (CSV), numbers kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, datetime.date):
        return value
    return safe_text(str(value)) if defuse else str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(str(name)) for name in header])
    for row in rows:
        writer.writerow(
            [
                cell.isoformat() if isinstance(cell, datetime.date | datetime.datetime) else cell
                for cell in (safe_cell(value) for value in row)
            ]
        )
    # A byte-order mark so spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([str(name) for name in header])
    widths = [len(str(name)) for name in header]
    for row in rows:
        cells = [safe_cell(value, defuse=False) for value in row]
        cells = [c.translate(_ILLEGAL_XML) if isinstance(c, str) else c for c in cells]
        sheet.append(cells)
        for index, cell in enumerate(cells):
            if index < len(widths):
                widths[index] = min(max(widths[index], len(str(cell))), 60)
    # openpyxl would store any text starting with "=" as a formula: every text cell is
    # marked a plain string, which is what keeps XLSX cells from running.
    for sheet_row in sheet.iter_rows():
        for cell in sheet_row:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
