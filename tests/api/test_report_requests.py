"""POST …/reports/ answers 202 at once with the report's status URL; rendering happens after."""

import threading

import pytest

from audits.models import Report
from audits.services import outbox
from audits.services import reports as report_service
from audits.services.submissions import submission_submit
from tests.api.conftest import key_client
from tests.conftest import make_draft


@pytest.fixture
def embedded_runner(settings, tasks_in_process):
    """The embedded web process: work runs on its background thread after the response."""
    settings.GOVPORTAL_TASKS_IN_PROCESS = "thread"
    outbox.outbox_runner_start()
    yield
    outbox.outbox_runner_stop()


@pytest.fixture
def render_gate(monkeypatch):
    """Rendering waits until the test opens the gate: proof the request did not wait on it."""
    gate = threading.Event()
    real = report_service.render_report_pdf

    def gated(report):
        assert gate.wait(timeout=60), "the gate was never opened"
        return real(report)

    monkeypatch.setattr(report_service, "render_report_pdf", gated)
    yield gate
    gate.set()


@pytest.mark.django_db(transaction=True)
def test_a_report_request_answers_202_with_its_status_url_before_rendering(
    lab, lab_member, render_gate, embedded_runner
):
    submission = make_draft(lab_member)
    submission_submit(
        submission=submission, acting_user=lab_member, accuracy_declared=True
    )  # v1, rendering gated
    client = key_client(lab)

    response = client.post(f"/api/v1/submissions/{submission.reference}/reports/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["version"] == 2
    status_url = f"http://testserver/api/v1/submissions/{submission.reference}/reports/2/"
    assert response["Location"] == body["status_url"] == status_url
    assert body["download"] is None

    render_gate.set()
    # The runner finishes what it was given (the test's in-memory SQLite cannot be read
    # while another thread writes it, so the test waits rather than polls).
    outbox.outbox_runner_stop()
    state = client.get(status_url).json()
    assert state["status"] == "ready", state["error"]
    pdf = client.get(state["download"])
    assert pdf.status_code == 200 and pdf.getvalue().startswith(b"%PDF")


@pytest.mark.django_db
def test_a_replayed_report_request_carries_the_location_too(lab, lab_member):
    submission = make_draft(lab_member)
    submission_submit(submission=submission, acting_user=lab_member, accuracy_declared=True)
    client = key_client(lab)
    url = f"/api/v1/submissions/{submission.reference}/reports/"

    first = client.post(url, HTTP_IDEMPOTENCY_KEY="report-once")
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="report-once")

    assert first.status_code == again.status_code == 202
    assert again["Location"] == first["Location"] == first.json()["status_url"]
    assert Report.objects.filter(submission=submission).count() == 2  # v1 on submit, v2 once
