"""Shared paths for the model-card and filing intake tests (not a test module)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
    """The team's shared samples: `../shared/samples` beside the checkout, else the
    directory named by GOVPORTAL_SHARED_SAMPLES; None when neither exists."""
    candidates = [REPO_ROOT.parent / "shared" / "samples"]
    if os.environ.get("GOVPORTAL_SHARED_SAMPLES"):
        candidates.append(Path(os.environ["GOVPORTAL_SHARED_SAMPLES"]))
    return next((candidate for candidate in candidates if candidate.is_dir()), None)


def require_shared_samples() -> Path:
    """The shared samples directory. Without it a test skips on a developer's machine and
    fails in CI (CI=true), where a missing folder must not pass for a green run."""
    found = shared_samples()
    if found is not None:
        return found
    message = (
        "the shared samples are missing: put them at ../shared/samples beside the checkout "
        "or name their directory in GOVPORTAL_SHARED_SAMPLES"
    )
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(message)
    pytest.skip(message)
