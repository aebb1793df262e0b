"""/api/v1/webhooks/: register, read, change, rotate, test, deliveries; and the documented
receiver example, run as its own process, verifying a real delivery."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audits.models import WebhookEndpoint
from tests.api.conftest import session_client

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def test_a_lab_admin_registers_an_endpoint_and_gets_the_secret_once(lab_admin, lab_member):
    client = session_client(lab_admin)
    body = {"url": "https://93.184.215.14/hooks", "event_types": ["report.ready"]}
    first = client.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    assert first.json()["secret"].startswith("whsec_")
    replay = client.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert "secret" not in replay.json()  # secrets are not stored with the replay
    assert WebhookEndpoint.objects.count() == 1

    listed = session_client(lab_member).get("/api/v1/webhooks/").json()
    assert [e["url"] for e in listed["results"]] == ["https://93.184.215.14/hooks"]
    assert "secret" not in listed["results"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://127.0.0.1/hooks", "event_types": ["report.ready"]}, "url"),
        ({"url": "https://93.184.215.14/hooks", "event_types": ["submission.nope"]}, "event_types"),
        ({"url": "https://93.184.215.14/hooks", "event_types": []}, "event_types"),
    ],
)
def test_bad_registrations_answer_the_error_shape_naming_the_field(lab_admin, body, field):
    response = session_client(lab_admin).post("/api/v1/webhooks/", body, format="json")
    assert response.status_code in (400, 409, 422)
    error = response.json()["error"]
    assert error["message"]
    assert field in str(error)
    assert not WebhookEndpoint.objects.exists()


def test_change_rotate_and_remove(lab_admin):
    client = session_client(lab_admin)
    created = client.post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/hooks", "event_types": ["report.ready"]},
        format="json",
    ).json()
    url = f"/api/v1/webhooks/{created['id']}/"
    changed = client.patch(url, {"event_types": ["submission.decided"]}, format="json").json()
    assert changed["event_types"] == ["submission.decided"]
    rotated = client.post(f"{url}rotate-secret/").json()
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_valid_until"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_the_documented_receiver_verifies_a_real_delivery(lab_admin, settings, committed):
    settings.GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS = True
    client = session_client(lab_admin)
    port = _free_port()
    created = client.post(
        "/api/v1/webhooks/",
        {"url": f"http://127.0.0.1:{port}/hook", "event_types": ["report.ready"]},
        format="json",
    ).json()
    receiver = subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        env={**os.environ, "GOVPORTAL_WEBHOOK_SECRET": created["secret"], "PORT": str(port)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port)
        with committed():
            response = client.post(f"/api/v1/webhooks/{created['id']}/test/")
        assert response.status_code == 202
        deliveries = client.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()
        [delivery] = deliveries["results"]
        assert delivery["status"] == "succeeded"
        assert [a["response_status"] for a in delivery["attempts"]] == [204]
    finally:
        receiver.terminate()
        output, _ = receiver.communicate(timeout=10)
    assert output.strip() == "webhook.test"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"the example receiver did not listen on {port}")
