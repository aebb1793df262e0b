"""A lab's release pipeline filing a model through the govportal REST API.

    pip install requests       # the only dependency
    GOVPORTAL_URL=http://127.0.0.1:8000 GOVPORTAL_API_KEY=... \
        python examples/file_with_requests.py FILING.yaml|json DIAGNOSTICS.csv [REPORT.pdf]

Files the filing document, uploads a diagnostics file, submits, waits for the assessment
and downloads the transparency report PDF once one is ready. Every POST carries an
Idempotency-Key derived from the inputs, so re-running after a network failure never files
twice. Exits non-zero with the API's error message on any refusal.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

POLL_SECONDS = 2.0
WAIT_FOR_REPORT_SECONDS = float(os.environ.get("GOVPORTAL_REPORT_WAIT", "120"))


class ApiError(Exception):
    pass


class Portal:
    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Api-Key {key}"

    def call(self, method: str, path: str, idempotency: str | None = None, **kwargs: Any) -> Any:
        headers = {"Idempotency-Key": idempotency} if idempotency else {}
        response = self.session.request(
            method, self.url + path, headers=headers, timeout=120, **kwargs
        )
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError):
                raise ApiError(f"{method} {path}: HTTP {response.status_code}") from None
            where = ", ".join(
                f"{name} {error[name]}" for name in ("file", "line", "field") if error.get(name)
            )
            raise ApiError(
                f"{method} {path}: {response.status_code} {error['code']}: {error['message']}"
                + (f" ({where})" if where else "")
            )
        return response


def model_identity(path: Path) -> tuple[str, str]:
    """The model's name and version, read from a native filing (JSON or YAML)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # PyYAML, only for YAML filings

        document = yaml.safe_load(text)
    else:
        document = json.loads(text)
    return str(document["model"]["name"]), str(document["model"]["version"])


def main(filing_path: str, diagnostics_path: str, report_path: str = "report.pdf") -> int:
    portal = Portal(
        os.environ.get("GOVPORTAL_URL", "http://127.0.0.1:8000"), os.environ["GOVPORTAL_API_KEY"]
    )
    filing = Path(filing_path)
    model_name, model_version = model_identity(filing)
    diagnostics = Path(diagnostics_path).read_bytes()
    run_id = hashlib.sha256(filing.read_bytes() + diagnostics).hexdigest()[:16]

    # The draft, then the filing document as it is (the portal parses YAML and JSON alike).
    created = portal.call(
        "POST",
        "/submissions/",
        f"{run_id}-draft",
        json={"model_name": model_name, "model_version": model_version},
    ).json()
    reference = created["submission"]["reference"]
    if created["submission"]["status"] == "draft":
        card = portal.call(
            "POST",
            f"/submissions/{reference}/model-card/",
            f"{run_id}-filing",
            files={"file": (filing.name, filing.read_bytes())},
        ).json()
        print(f"filed {reference}; facts still missing: {len(card['facts']['missing'])}")
        upload = portal.call(
            "POST",
            f"/submissions/{reference}/diagnostics/",
            f"{run_id}-diagnostics",
            files={"file": (Path(diagnostics_path).name, diagnostics, "text/csv")},
            # Its values replace those the filing document gave for the same metrics.
            data={"supersedes": filing.name},
        ).json()
        metrics = [d["metric"] for d in upload["extracted"]["diagnostics"]]
        print(f"uploaded {len(metrics)} diagnostics: {', '.join(metrics)}")
        for warning in upload["warnings"]:
            print(f"  warning: {warning['message']}")
        # Submitting declares the filing accurate (docs/api.md has the declaration's words).
        portal.call(
            "POST",
            f"/submissions/{reference}/submit/",
            f"{run_id}-submit",
            json={"accuracy_declaration": True},
        )
        print(f"submitted {reference}")

    while True:
        response = portal.session.get(f"{portal.url}/submissions/{reference}/assessment/")
        if response.status_code == 200:
            assessment = response.json()
            break
        time.sleep(POLL_SECONDS)
    print(
        f"assessment: tier {assessment['tier']}, score {assessment['overall_score']}, "
        f"coverage {assessment['coverage']:.0%} "
        f"({assessment['rubric']['reference']})"
    )

    # Final reports follow a regulator's decision; until then, ask for a provisional one.
    listed = portal.call("GET", f"/submissions/{reference}/reports/").json()["results"]
    if not listed:
        portal.call("POST", f"/submissions/{reference}/reports/", f"{run_id}-report")
    deadline = time.monotonic() + WAIT_FOR_REPORT_SECONDS
    while True:
        reports = portal.call("GET", f"/submissions/{reference}/reports/").json()["results"]
        ready = [r for r in reports if r["status"] == "ready"]
        if ready:
            break
        failed = [r for r in reports if r["status"] == "failed"]
        if failed:
            raise ApiError(f"report version {failed[0]['version']} failed: {failed[0]['error']}")
        if time.monotonic() > deadline:
            print("no report is ready yet; fetch it later from the reports endpoint")
            return 0
        time.sleep(POLL_SECONDS)
    report = ready[0]
    pdf = portal.call("GET", f"/submissions/{reference}/reports/{report['version']}/pdf/")
    if hashlib.sha256(pdf.content).hexdigest() != report["sha256"]:
        raise ApiError("the downloaded PDF does not match the report's SHA-256")
    Path(report_path).write_bytes(pdf.content)
    print(
        f"report v{report['version']} ({report['kind']}) saved to {report_path}, "
        f"sha256 {report['sha256']}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        sys.exit(main(*sys.argv[1:4]))
    except ApiError as error:
        sys.exit(f"govportal refused: {error}")
