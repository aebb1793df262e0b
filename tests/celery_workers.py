"""Real Celery worker processes for tests that need one (PostgreSQL + a broker).

`celery_workers` is a fixture: call `start(queue, *celery_args, env={...}, cwd=...)` for a
worker on that queue (or comma-separated queues), as often as needed; every worker still
running is stopped afterwards. Without CELERY_BROKER_URL and a PostgreSQL database the test
is skipped, or failed when GOVPORTAL_REQUIRE_SERVICES=1 (CI's service run), so a missing
service can never pass silently there.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _unavailable() -> str | None:
    if not os.environ.get("CELERY_BROKER_URL"):
        return "CELERY_BROKER_URL is not set"
    if connection.vendor != "postgresql":
        return "the worker needs a database it can share (PostgreSQL)"
    return None


def _database_url() -> str:
    db = connection.settings_dict
    credentials = f"{db['USER']}:{db['PASSWORD'] or ''}"
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_workers(transactional_db, tmp_path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    reason = _unavailable()
    if reason:
        if os.environ.get("GOVPORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"services required but unavailable: {reason}")
        pytest.skip(reason)
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    processes: list[subprocess.Popen[str]] = []

    def start(
        queue: str, *extra_args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
    ) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "govportal", "worker", "-Q", queue,
             "--concurrency=1", "--pool=solo", "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", *extra_args],
            cwd=cwd,
            env={**environment, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(predicate, *, timeout: float, what: str, process=None):
    """Poll `predicate` until it returns something truthy; fail if the worker dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"worker exited while waiting for {what}: {output[-4000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")
