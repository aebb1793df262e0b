"""Exports: no cell of a CSV or XLSX the portal writes can run as a formula."""

import csv
import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from audits.web.spreadsheets import FORMULA_TRIGGERS, csv_bytes, safe_text, xlsx_bytes

ILLEGAL = {code: None for code in range(32) if chr(code) not in "\t\n\r"}

texts = st.text(max_size=40)
dangerous = st.builds(lambda t, s: t + s, st.sampled_from(FORMULA_TRIGGERS), texts)
cells = st.one_of(texts, dangerous, st.integers(), st.floats(allow_nan=False, allow_infinity=False))


def _is_formula_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def _lines(text: str | None) -> str | None:
    return text.replace("\r\n", "\n").replace("\r", "\n") if text else text


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell and "inf" not in cell.lower() and "nan" not in cell.lower()


@given(st.lists(st.lists(cells, min_size=1, max_size=4), max_size=6))
def test_no_csv_cell_starts_a_formula(rows):
    text = csv_bytes(["a", "b", "c", "d"], rows).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if _is_number(cell):
                continue  # a number written as a number is data, not a formula
            assert not _is_formula_text(cell), cell


# Writing a workbook takes tens of milliseconds; no deadline (timing is not asserted here).
@settings(deadline=None, max_examples=60)
@given(st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=6))
def test_no_xlsx_cell_is_a_formula_and_text_stays_as_written(rows):
    content = xlsx_bytes("Queue", ["a", "b", "c", "d"], rows)
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    workbook = load_workbook(io.BytesIO(content))
    stored = list(workbook.active.iter_rows(min_row=2, values_only=True))
    for row, written in zip(rows, stored, strict=True):
        for value, cell in zip(row, written, strict=False):
            if isinstance(value, str):
                # Typed as a string: shown exactly, with no apostrophe added (line ends
                # may come back as \n, as XML reads them).
                assert _lines(cell) == (_lines(value.translate(ILLEGAL)) or None), (value, cell)


@given(dangerous)
def test_dangerous_text_is_kept_readable_behind_a_quote(value):
    assert safe_text(value) == "'" + value


@given(texts.filter(lambda t: not t.startswith(FORMULA_TRIGGERS)))
def test_harmless_text_is_unchanged(value):
    assert safe_text(value) == value
