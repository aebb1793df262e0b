"""Zip archives read defensively: Inspect `.eval` logs and zipped HELM run directories.

The archive's directory is checked (entry count, declared sizes, compression ratios)
before anything is inflated, and every entry read is inflated in bounded chunks, so a zip
bomb is refused without being expanded.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from audits.intake.diagnostics.common import load_json
from audits.intake.types import IntakeError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MAX_ENTRIES = 100_000
MAX_DECLARED_BYTES = 1024 * 1024 * 1024  # sum of all entries' declared sizes
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # any single entry we inflate
MAX_RATIO = 100  # inflated/compressed, for entries above the size below
RATIO_MIN_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


def is_zip(content: bytes) -> bool:
    return content.startswith(ZIP_MAGIC)


def zip_names(content: bytes) -> set[str]:
    """The entry names of a zip archive, or an empty set when it cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return set()


def open_checked(source: str, content: bytes, *, what: str) -> zipfile.ZipFile:
    """Open a zip upload after checking its directory against the limits above.

    `what` names the expected content in messages ("an Inspect .eval log").
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError(
            f"the zip archive ({what}) is damaged ({exc}); upload it again", file=source
        ) from exc
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        archive.close()
        raise IntakeError(
            f"the archive has {len(entries):,} entries, more than {MAX_ENTRIES:,}; refused as "
            "a possible zip bomb",
            file=source,
        )
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_DECLARED_BYTES:
        archive.close()
        raise IntakeError(
            f"the archive declares {declared:,} bytes uncompressed, more than "
            f"{MAX_DECLARED_BYTES:,}; refused as a possible zip bomb",
            file=source,
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            archive.close()
            raise IntakeError(
                f"entry {entry.filename} expands {ratio:,.0f}:1 ({entry.file_size:,} bytes); "
                f"more than {MAX_RATIO}:1 is refused as a possible zip bomb",
                file=source,
                field=entry.filename,
            )
    return archive


def read_json_entry(source: str, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Any:
    """One entry of a checked archive, inflated within MAX_ENTRY_BYTES and parsed as JSON.

    Errors name the entry as the field (and the line inside it for JSON syntax errors).
    """
    if entry.file_size > MAX_ENTRY_BYTES:
        raise IntakeError(
            f"entry {entry.filename} declares {entry.file_size:,} bytes, more than "
            f"{MAX_ENTRY_BYTES:,}",
            file=source,
            field=entry.filename,
        )
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(entry) as stream:
            for chunk in _chunks(stream):
                size += len(chunk)
                # The declared size can lie; stop at the limit instead of trusting it.
                if size > MAX_ENTRY_BYTES:
                    raise IntakeError(
                        f"entry {entry.filename} inflates past {MAX_ENTRY_BYTES:,} bytes; "
                        "refused as a possible zip bomb",
                        file=source,
                        field=entry.filename,
                    )
                chunks.append(chunk)
    except _READ_ERRORS as exc:
        raise IntakeError(
            f"entry {entry.filename} of the archive cannot be read ({exc}); upload the file "
            "again as it was written",
            file=source,
            field=entry.filename,
        ) from exc
    payload = b"".join(chunks)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(
            f"entry {entry.filename} is not UTF-8 JSON", file=source, field=entry.filename
        ) from exc
    try:
        return load_json(source, text)
    except IntakeError as exc:
        raise IntakeError(
            f"entry {entry.filename}: {exc.message}",
            file=source,
            line=exc.location.line,
            field=entry.filename,
        ) from exc


def _chunks(stream: Any) -> Iterator[bytes]:
    read: Callable[[int], bytes] = stream.read
    while chunk := read(_CHUNK):
        yield chunk
