"""Shared paths for the model-card and filing intake tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES = REPO_ROOT / "tests" / "data" / "samples"
BAD = REPO_ROOT / "tests" / "data" / "bad"

FILING_HEAD = (
    "filing_schema: govportal/filing/1\n"
    "model:\n"
    "  name: Atlas\n"
    '  version: "2.1"\n'
    "  developer: Example Lab\n"
)


def sample(name: str) -> bytes:
    """The bytes of a copied sample in tests/data/samples."""
    return (SAMPLES / name).read_bytes()


def shared_samples() -> Path | None:
    """`../shared/samples` beside the repo (or /work/shared/samples), when present."""
    for candidate in (REPO_ROOT.parent / "shared" / "samples", Path("/work/shared/samples")):
        if candidate.is_dir():
            return candidate
    return None
