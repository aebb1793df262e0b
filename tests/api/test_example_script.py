"""examples/file_with_requests.py, run as a lab would run it, against a live portal."""

import os
import subprocess
import sys
from pathlib import Path

from audits.models import Report, Submission
from tests.api.conftest import key_client

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "audits" / "fixtures" / "demo"


def test_example_script_files_submits_and_downloads_the_report(
    live_server, transactional_db, lab, tmp_path, tasks_in_process
):
    client = key_client(lab)
    environment = {
        **os.environ,
        "GOVPORTAL_URL": live_server.url,
        "GOVPORTAL_API_KEY": client.plaintext,
        "GOVPORTAL_REPORT_WAIT": "60",
    }
    command = [
        sys.executable,
        str(ROOT / "examples" / "file_with_requests.py"),
        str(DEMO / "tessellate-coder-2.0.filing.yaml"),
        str(DEMO / "hearth-1.3-diagnostics.csv"),
        str(tmp_path / "report.pdf"),
    ]

    for _ in range(2):  # the second run replays: nothing is filed twice
        run = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stdout + run.stderr

    submission = Submission.objects.get()
    assert submission.status == Submission.Status.SUBMITTED
    report = Report.objects.get(submission=submission)
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert report.sha256 in run.stdout
