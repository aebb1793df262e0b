"""Which software issued a report: the package version and, when known, the commit.

Read once per process: `GOVPORTAL_COMMIT` (set by a deployment that ships without its
git directory) or else `git rev-parse HEAD` in the checkout.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from django.conf import settings

PACKAGE = "govportal"
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
COMMIT_LENGTH = 12


def _git_commit(checkout: Path) -> str:
    git = shutil.which("git")
    if git is None or not (checkout / ".git").exists():
        return ""
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [git, "rev-parse", "HEAD"],
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return completed.stdout.strip() if completed.returncode == 0 else ""


@functools.cache
def software_version() -> str:
    """`govportal 0.1.0 (commit 1a2b3c4d5e6f)`, or without the commit when unknown."""
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown version"
    commit = (settings.GOVPORTAL_COMMIT or _git_commit(Path(settings.BASE_DIR))).strip().lower()
    if _COMMIT.match(commit):
        return f"{PACKAGE} {version} (commit {commit[:COMMIT_LENGTH]})"
    return f"{PACKAGE} {version}"
