"""Concurrent duplicates with one Idempotency-Key create exactly one filing (PostgreSQL).

Runs when DATABASE_URL points at PostgreSQL; with GOVPORTAL_REQUIRE_SERVICES=1 a skip is a
failure instead. SQLite serializes writers, which would prove nothing.
"""

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from audits.models import Submission
from tests.api.conftest import key_client

PARALLEL = 8


@pytest.fixture
def postgres(transactional_db):
    if connection.vendor != "postgresql":
        if os.environ.get("GOVPORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL required but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


def _post(url: str, key: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Api-Key {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": "release-2026-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.postgres
def test_parallel_duplicates_create_exactly_one_filing(postgres, live_server, lab, filing_document):
    client = key_client(lab)
    body = json.dumps({"filing": filing_document}).encode()
    url = f"{live_server.url}/api/v1/submissions/"

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(lambda _: _post(url, client.plaintext, body), range(PARALLEL)))

    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {201, 409}, results
    assert 201 in statuses
    references = {r["submission"]["reference"] for status, r in results if status == 201}
    assert len(references) == 1
    assert Submission.objects.count() == 1
    for status, response in results:
        if status == 409:
            assert response["error"]["code"] == "idempotency_in_progress"
    # Once done, a retry gets the first response.
    status, replay = _post(url, client.plaintext, body)
    assert status == 201 and replay["submission"]["reference"] in references
