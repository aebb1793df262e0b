"""Canonical JSON serialization and hashing, shared by facts, rubrics and the audit log.

Pure Python: importable without Django.
"""

import hashlib
import json
from typing import Any

# Built once: json.dumps builds a new encoder on every call with these options, which
# shows on hot paths (every assessment hashes its facts).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Serialize `value` so that equal documents give equal bytes.

    Keys are sorted, separators are fixed and non-ASCII text is kept as UTF-8, so the
    same document always hashes to the same digest whatever built it. NaN and infinities
    are refused (ValueError).
    """
    return _ENCODER.encode(value).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """SHA-256 (hex) of the canonical serialization of `value`."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
