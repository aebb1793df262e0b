"""`manage.py assess --pdf`: preparation copies, reproducible under SOURCE_DATE_EPOCH."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from tests.reports.conftest import pdf_text
from tests.reports.factories import DEMO_FILING

# 2026-01-15 12:30:00 UTC
EPOCH = "1768480200"


def _assess_pdf(path):
    call_command("assess", str(DEMO_FILING), "--pdf", str(path), stdout=io.StringIO())
    return path.read_bytes()


def test_the_same_files_and_source_date_epoch_give_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first = _assess_pdf(tmp_path / "first.pdf")
    time.sleep(1.1)
    second = _assess_pdf(tmp_path / "second.pdf")
    assert first == second
    text = pdf_text(first)
    assert "Issued 15 January 2026, 12:30 UTC" in text
    assert "Assessed 15 January 2026, 12:30 UTC" in text
    assert b"/CreationDate (D:20260115123000Z)" in first
    assert "NOT FILED" in text and "Not filed — for preparation only" in text


def test_without_source_date_epoch_the_copy_is_dated_now(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    from django.utils import timezone

    before = timezone.now()
    text = pdf_text(_assess_pdf(tmp_path / "now.pdf"))
    assert f"Issued {before.day} {before:%B} {before.year}" in text


@pytest.mark.parametrize("value", ["yesterday", "-5", "99999999999999999999"])
def test_a_bad_source_date_epoch_is_refused_by_name(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(CommandError, match="SOURCE_DATE_EPOCH"):
        _assess_pdf(tmp_path / "bad.pdf")
    assert not (tmp_path / "bad.pdf").exists()
