"""Evidence, uploads and reports on S3-compatible object storage, against a real HTTP server.

Everything goes through the portal's own surfaces (upload pages, services, download views)
with `FILE_STORAGE_BACKEND` pointing at django-storages' S3 backend and moto's server;
nothing may land in MEDIA_ROOT. Downloads are streamed through the portal after its tenant
checks: a lab never gets another lab's bytes, and no object URL is handed out.
"""

import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audits.models import Report, StoredFile
from audits.services.reports import report_render
from audits.services.submissions import submission_submit
from tests.api.conftest import key_client
from tests.conftest import make_draft
from tests.s3 import s3_server, s3_storage  # noqa: F401
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = b"# Red-team study\n\nThe model never deceived its overseers in 400 episodes.\n"


def _blob_key(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"


def _upload_evidence(user, submission, content=EVIDENCE, name="study.md"):
    return client_for(user).post(
        reverse("upload", args=[submission.reference, "evidence"]),
        {"file": SimpleUploadedFile(name, content), "description": "A study."},
    )


def test_evidence_goes_to_the_bucket_once_and_comes_back_only_to_its_lab(
    s3_storage,  # noqa: F811
    media_root,
    lab_member,
    other_lab_member,
    reviewer,
):
    first = make_draft(lab_member, "Atlas", "1")
    second = make_draft(lab_member, "Atlas", "2")

    assert _upload_evidence(lab_member, first).status_code in (200, 302)
    assert _upload_evidence(lab_member, second, name="same-bytes.md").status_code in (200, 302)

    # Content-addressed: the same bytes are one row and one object, however often uploaded.
    assert StoredFile.objects.filter(sha256=hashlib.sha256(EVIDENCE).hexdigest()).count() == 1
    assert _blob_key(EVIDENCE) in s3_storage.object_keys()
    assert s3_storage.get(_blob_key(EVIDENCE)) == EVIDENCE
    assert not media_root.exists() or not any(media_root.rglob("*"))

    url = reverse("file-download", args=[first.reference, hashlib.sha256(EVIDENCE).hexdigest()])
    response = client_for(lab_member).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == EVIDENCE
    assert response["Content-Length"] == str(len(EVIDENCE))
    assert response["Content-Disposition"].startswith("attachment")
    # The bucket is never shown: no object URL, no signature, in the response.
    assert s3_storage.endpoint not in str(response.headers)
    assert client_for(other_lab_member).get(url).status_code == 404
    assert client_for(reviewer).get(url).status_code == 404  # a draft is the lab's alone


def test_a_report_is_stored_in_the_bucket_and_downloaded_through_the_portal_and_api(
    s3_storage,  # noqa: F811
    media_root,
    lab,
    lab_member,
    other_lab,
):
    submission = submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    report = Report.objects.get(submission=submission)
    report = report_render(report_id=report.pk)  # what the worker runs

    assert report.status == Report.Status.READY, report.error
    pdf = s3_storage.get(_blob_key_of(report.sha256))
    assert hashlib.sha256(pdf).hexdigest() == report.sha256 and pdf.startswith(b"%PDF")
    assert not media_root.exists() or not any(media_root.rglob("*"))

    portal = client_for(lab_member).get(reverse("report-pdf", args=[submission.reference, 1]))
    assert portal.status_code == 200 and b"".join(portal.streaming_content) == pdf
    api = key_client(lab).get(f"/api/v1/submissions/{submission.reference}/reports/1/pdf/")
    assert api.status_code == 200 and b"".join(api.streaming_content) == pdf
    assert api["X-Content-SHA256"] == report.sha256
    other = key_client(other_lab).get(f"/api/v1/submissions/{submission.reference}/reports/1/pdf/")
    assert other.status_code == 404


def _blob_key_of(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def test_the_storage_check_of_readyz_reaches_the_bucket(s3_storage, client, settings):  # noqa: F811
    ready = client.get("/readyz")
    assert ready.json()["checks"]["storage"]["ok"] is True

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {
                **settings.STORAGES["default"]["OPTIONS"],
                "endpoint_url": "http://127.0.0.1:9",  # nothing listens there
                "client_config": _no_retries(),
            },
        },
    }
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["failed"] == ["storage"]
    assert "127.0.0.1" not in down.content.decode()


def _no_retries():
    from botocore.config import Config

    return Config(retries={"max_attempts": 0}, connect_timeout=1, read_timeout=1)


SOURCES = sorted((ROOT / "audits").rglob("*.py"))
LOCAL_PATH_USES = re.compile(r"MEDIA_ROOT|\.blob\.path|storage\.path\(|\.path\(\s*stored")


def test_nothing_in_the_domain_reads_files_by_local_path():
    """Stored files are reached only through the storage API, never MEDIA_ROOT or a path."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LOCAL_PATH_USES.search(line)
    ]
    assert offenders == []
