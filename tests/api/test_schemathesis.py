"""Schemathesis against the live OpenAPI schema with a valid key: no 5xx, responses match.

Deterministic: a fixed seed, `--generation-deterministic` and a fixed number of examples
per operation, never a wall-clock budget, so every run sends the same requests and a
slow machine only makes the run longer, never different. As in production, the web
process hands background work to a broker (here one nobody listens on, so the work waits
in the outbox): no request renders a PDF or re-scores. `test_schemathesis_is_stable` runs
the whole thing five times in a row and wants five passes with the same requests; it is
opt-in (GOVPORTAL_SLOW_TESTS=1, which .ci/run sets for its first pass) and replaces the
single run there.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from audits.api.throttling import PrincipalRateThrottle
from audits.models import Organization
from audits.services.rubrics import rubrics_load
from tests.api.conftest import key_client
from tests.conftest import make_draft
from tests.factories import MembershipFactory, OrganizationFactory
from tests.s3 import free_port
from tests.test_broker_outage import web_process_using

EXAMPLES = "3"  # per operation in the fuzzing phase; the coverage phase is exhaustive
# A generous bound on one whole run, only so that a hang fails instead of blocking CI.
RUN_TIMEOUT = 600
STABILITY_RUNS = 5


@pytest.fixture
def unthrottled(monkeypatch):
    rates = {**PrincipalRateThrottle.THROTTLE_RATES, "principal": "100000/min"}
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", rates)


def _fresh_world() -> str:
    """An empty database but for the rubric, one lab with a member and a draft; the lab's key.

    Every run starts from this same state (ids and references included), so the same
    requests meet the same data and get the same answers.
    """
    call_command("flush", interactive=False, verbosity=0)  # sequences are reset too
    rubrics_load()
    lab = OrganizationFactory(name="Example Lab", slug="example-lab", kind=Organization.Kind.LAB)
    member = MembershipFactory(user__username="lab-member", organization=lab).user
    make_draft(member)
    return key_client(lab).plaintext


@pytest.fixture
def api_under_test(live_server, transactional_db, unthrottled):
    """The live API, a fresh world per run, and background work left to the workers."""
    with web_process_using(f"redis://127.0.0.1:{free_port()}/0"):
        yield live_server.url


def _run(url: str, key: str, directory: Path) -> subprocess.CompletedProcess[str]:
    directory.mkdir(parents=True, exist_ok=True)
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    command = [
        st,
        "run",
        f"{url}/api/v1/schema/",
        "--header",
        f"Authorization: Api-Key {key}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,"
        "content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        # Derandomized: the same requests on every run (a seed is then unused), and no
        # example database carried from one run to the next.
        "--generation-deterministic",
        # One worker: the embedded SQLite serializes writers anyway.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report-dir",
        str(directory),
    ]
    # Its caches go to the run's own directory, not the repository.
    return subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=directory
    )


def _cases(output: str) -> str:
    """The run's count of generated test cases, which a deterministic run repeats."""
    found = re.search(r"Test cases:\s*\n?\s*(\S.*)", output)
    return found.group(1).strip() if found else ""


STABILITY = bool(os.environ.get("GOVPORTAL_SLOW_TESTS"))


@pytest.mark.skipif(STABILITY, reason="test_schemathesis_is_stable runs it five times")
def test_schemathesis_finds_no_server_error_and_no_schema_violation(api_under_test, tmp_path):
    run = _run(api_under_test, _fresh_world(), tmp_path / "run")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert _cases(run.stdout), run.stdout[-3000:]


@pytest.mark.skipif(
    not STABILITY,
    reason="five full schemathesis runs: set GOVPORTAL_SLOW_TESTS=1 (CI's first pass does)",
)
def test_schemathesis_is_stable(api_under_test, tmp_path):
    cases = []
    for attempt in range(1, STABILITY_RUNS + 1):
        run = _run(api_under_test, _fresh_world(), tmp_path / f"run-{attempt}")
        assert run.returncode == 0, (
            f"run {attempt} of {STABILITY_RUNS} failed:\n" + run.stdout[-6000:] + run.stderr[-2000:]
        )
        cases.append(_cases(run.stdout))
    assert len(set(cases)) == 1 and cases[0], f"the runs differed: {cases}"
