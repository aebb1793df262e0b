"""Canonical JSON serialization and hashing, shared by facts, rubrics and the audit log.

Pure Python: importable without Django.
"""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Serialize `value` so that equal documents give equal bytes.

    Keys are sorted, separators are fixed and non-ASCII text is kept as UTF-8, so the
    same document always hashes to the same digest whatever built it.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """SHA-256 (hex) of the canonical serialization of `value`."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
