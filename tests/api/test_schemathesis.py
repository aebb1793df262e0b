"""Schemathesis against the live OpenAPI schema with a valid key: no 5xx, responses match.

Bounded in time (`--max-time`); CI runs it in both passes (SQLite and PostgreSQL).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audits.api.throttling import PrincipalRateThrottle
from tests.api.conftest import key_client
from tests.conftest import make_draft

MAX_SECONDS = 45


@pytest.fixture
def unthrottled(monkeypatch):
    rates = {**PrincipalRateThrottle.THROTTLE_RATES, "principal": "100000/min"}
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", rates)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, transactional_db, lab, lab_member, unthrottled, tmp_path
):
    client = key_client(lab)
    make_draft(lab_member)
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    command = [
        st,
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--header",
        f"Authorization: Api-Key {client.plaintext}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,"
        "content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "8",
        "--max-time",
        str(MAX_SECONDS),
        "--seed",
        "20261128",
        # One worker: the embedded SQLite serializes writers anyway.
        "--workers",
        "1",
        "--no-color",
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path),
    ]
    # Its caches go to tmp_path, not the repository.
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=MAX_SECONDS + 60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
