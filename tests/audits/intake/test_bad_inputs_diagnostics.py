"""Malformed diagnostics files: each is refused with a clear error naming file and place."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from audits.intake.diagnostics import archives, detect, import_diagnostics
from tests.audits.intake.diagnostics_helpers import BAD, INSPECT_GEMMA3, error_of, eval_zip_from_log

# file, expected message fragment, line, field
CORPUS = [
    ("ragged.csv", "line 3 has 4 fields but the header has 3 (metric, value, n)", 3, None),
    ("short_row.tsv", "line 3 has 2 fields but the header has 3", 3, None),
    ("nan_value.csv", "value is NaN", 3, "value"),
    ("inf_value.csv", "ci_high is infinite ('inf')", 2, "ci_high"),
    ("non_numeric_value.csv", "value 'twelve percent' is not a number", 2, "value"),
    ("negative_n.csv", "n is negative (-3)", 3, "n"),
    (
        "fraction_out_of_range.csv",
        "value 48.0 is out of range for situational_awareness.sad_score (unit: fraction); "
        "it must be in [0, 1]",
        2,
        "value",
    ),
    (
        "pp_out_of_range.csv",
        "out of range for alignment_faking.compliance_gap (unit: percentage points); "
        "it must be in [-100, 100]",
        2,
        "value",
    ),
    ("ci_outside.csv", "the interval [0.15, 0.2] does not contain the value 0.12", 2, "ci_low"),
    (
        "duplicate_conflict.csv",
        "metric scheming.in_context_rate is reported twice with different values: 0.19 here "
        "and 0.12 at duplicate_conflict.csv, line 2",
        4,
        "metric",
    ),
    (
        "unknown_column.csv",
        "unknown column 'stderr'; allowed columns: metric, value, ci_low",
        1,
        "stderr",
    ),
    (
        "per_sample_fraction.csv",
        "value 2 is out of range for scheming.in_context_rate (unit: fraction, allowed [0, 1])",
        4,
        "value",
    ),
    (
        "per_sample_duplicate.csv",
        "sample 't1' of metric eval_awareness.rate appears twice",
        4,
        "sample_id",
    ),
    ("records_nan.json", "value is NaN", None, "[1].value"),
    ("latin1.csv", "the file is not UTF-8 text: byte 79 (0xe9) on line 3", 3, None),
    ("garbage.bin", "the file is binary, not text", 1, None),
    ("not_a_zip.eval", "not a zip archive: an Inspect .eval log is a zip file", None, None),
    (
        "truncated.json",
        "not valid JSON: Expecting ',' delimiter at line 19 column 33; the file ends too early",
        19,
        None,
    ),
    (
        "nul_metric.json",
        "this text contains a NUL character ('judge\\x00score')",
        None,
        "[1].metric",
    ),
    ("nul_byte.csv", "the file contains a NUL character (line 3, column 16)", 3, None),
    (
        "inspect_error.json",
        "the evaluation sad_stages_oversight ended with an error (RuntimeError: connection "
        "reset by peer)",
        None,
        "status",
    ),
]


@pytest.mark.parametrize(("name", "fragment", "line", "field"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_file_is_refused_with_its_location(
    name: str, fragment: str, line: int | None, field: str | None
) -> None:
    error = error_of(import_diagnostics, name, (BAD / name).read_bytes())
    assert fragment in error.message
    assert (error.location.file, error.location.line, error.location.field) == (name, line, field)
    # The rendered error leads with the place, so a lab sees where to look.
    assert str(error).startswith(name)


def test_every_corpus_file_is_covered() -> None:
    on_disk = {path.name for path in BAD.iterdir() if path.suffix != ".md"}
    assert on_disk == {case[0] for case in CORPUS}


def test_garbage_is_not_detected_as_diagnostics() -> None:
    assert detect("garbage.bin", (BAD / "garbage.bin").read_bytes()) is None
    assert detect("card.md", b"# Model card\n\nSome prose.\n") is None
    assert detect("x.json", b'{"model": {"name": "Atlas"}}') is None


def test_eval_zip_bomb_is_refused_without_inflating_it(tmp_path) -> None:
    bomb = tmp_path / "bomb.eval"
    header = json.dumps(json.loads(INSPECT_GEMMA3.read_text(encoding="utf-8")) | {"samples": []})
    zeros = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", header)
        with archive.open("samples/1_epoch_1.json", "w", force_zip64=True) as entry:
            for _ in range(200):  # 200 MiB of zeros, about 200 KB on disk
                entry.write(zeros)
    assert bomb.stat().st_size < 1024 * 1024
    error = error_of(import_diagnostics, "bomb.eval", bomb.read_bytes())
    assert error.location.field == "samples/1_epoch_1.json"
    assert "expands" in error.message and "possible zip bomb" in error.message


def test_entry_inflating_past_the_limit_is_stopped(monkeypatch) -> None:
    content = eval_zip_from_log(json.loads(INSPECT_GEMMA3.read_text(encoding="utf-8")))
    monkeypatch.setattr(archives, "MAX_ENTRY_BYTES", 1000)
    error = error_of(import_diagnostics, "big.eval", content)
    assert error.location.field == "header.json"
    assert "more than 1,000" in error.message


def test_entry_lying_about_its_size_is_not_inflated_past_it() -> None:
    # A small declared size passes the directory checks; reading stops at that size and
    # the checksum then fails, so the lie costs nothing and gives a clear error.
    content = bytearray(eval_zip_from_log(json.loads(INSPECT_GEMMA3.read_text(encoding="utf-8"))))
    directory = content.find(b"PK\x01\x02")
    entry_start = content.find(b"header.json", directory) - 46
    assert content[entry_start : entry_start + 4] == b"PK\x01\x02"
    content[entry_start + 24 : entry_start + 28] = (100).to_bytes(4, "little")  # file size
    error = error_of(import_diagnostics, "liar.eval", bytes(content))
    assert error.location.field == "header.json"
    assert "entry header.json of the archive cannot be read (Bad CRC-32" in error.message


def test_too_many_entries_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(archives, "MAX_ENTRIES", 3)
    content = eval_zip_from_log(json.loads(INSPECT_GEMMA3.read_text(encoding="utf-8")))
    error = error_of(import_diagnostics, "many.eval", content)
    assert "more than 3; refused as a possible zip bomb" in error.message


def test_truncated_eval_zip_is_a_damaged_archive() -> None:
    content = eval_zip_from_log(json.loads(INSPECT_GEMMA3.read_text(encoding="utf-8")))
    error = error_of(import_diagnostics, "cut.eval", content[: len(content) // 2])
    assert "the zip archive (an Inspect .eval log) is damaged" in error.message


def test_zip_that_is_not_an_inspect_log() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "hello")
    assert detect("bundle.zip", buffer.getvalue()) is None
    error = error_of(import_diagnostics, "bundle.zip", buffer.getvalue())
    assert "neither an Inspect .eval log nor a HELM run directory" in error.message
    error = error_of(import_diagnostics, "bundle.eval", buffer.getvalue())
    assert "without header.json or _journal/start.json" in error.message


def test_deeply_nested_json_is_refused() -> None:
    content = b"[" * 100_000 + b"]" * 100_000
    error = error_of(import_diagnostics, "deep.json", content)
    assert "nested too deeply" in error.message
