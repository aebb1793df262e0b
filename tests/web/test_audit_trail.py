"""The audit trail page: who sees what, filters, sentences, CSV export, chain status."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from audits.models import AuditEvent
from audits.services import submissions as lifecycle
from audits.services.audit_log import audit_chain_verify_and_record, audit_event_record
from audits.services.review import criterion_override
from tests.conftest import make_draft
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(lab_member, other_lab_member, reviewer, second_reviewer, regulator_admin):
    mine = lifecycle.submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    mine = lifecycle.submission_start_review(submission=mine, acting_user=reviewer)
    criterion_override(
        submission=mine, acting_user=reviewer, criterion="E1", level=3, reason="Probe study."
    )
    lifecycle.submission_request_changes(
        submission=mine, acting_user=reviewer, rationale="=HYPERLINK(1)"
    )
    lifecycle.submission_assign(
        submission=mine, acting_user=regulator_admin, reviewer=second_reviewer
    )
    theirs = lifecycle.submission_submit(
        submission=make_draft(other_lab_member, "Borealis", "1"),
        acting_user=other_lab_member,
        accuracy_declared=True,
    )
    return mine, theirs


def test_a_regulator_reads_every_event_as_a_sentence(reviewer, history):
    mine, theirs = history
    html = client_for(reviewer).get(reverse("audit-trail")).content.decode()
    assert f"reviewer requested changes to {mine.reference}, revision 1" in html
    assert theirs.reference in html
    assert ">submission.request_changes<" not in html  # labels and sentences, not codes
    assert "Changes requested" in html


def test_a_lab_admin_sees_only_their_organization_and_not_regulators_working_steps(
    lab_admin, history
):
    mine, theirs = history
    html = client_for(lab_admin).get(reverse("audit-trail")).content.decode()
    assert mine.reference in html
    assert theirs.reference not in html  # another lab's filing
    assert "overrode" not in html and "assigned" not in html.replace("Assigned to", "")
    csv_text = b"".join(client_for(lab_admin).get(reverse("audit-trail-export")).streaming_content)
    assert theirs.reference.encode() not in csv_text
    assert b"assessment.override" not in csv_text and b"submission.assign" not in csv_text


def test_lab_members_and_other_roles_are_refused(lab_member):
    assert client_for(lab_member).get(reverse("audit-trail")).status_code == 403


def test_filters_by_actor_action_filing_and_date(reviewer, history):
    mine, theirs = history
    client = client_for(reviewer)
    html = client.get(reverse("audit-trail"), {"reference": theirs.reference}).content.decode()
    assert theirs.reference in html and mine.reference not in html
    html = client.get(
        reverse("audit-trail"), {"action": "submission.request_changes"}
    ).content.decode()
    assert "1 event" in html
    html = client.get(reverse("audit-trail"), {"actor": "regulator-admin"}).content.decode()
    assert "regulator-admin assigned" in html and "requested changes" not in html
    html = client.get(reverse("audit-trail"), {"date_to": "2000-01-01"}).content.decode()
    assert "0 events" in html


def test_the_export_is_csv_where_no_cell_runs_as_a_formula(reviewer, history):
    response = client_for(reviewer).get(
        reverse("audit-trail-export"), {"action": "submission.request_changes"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Sequence", "Time (UTC)", "Actor"]
    [row] = rows[1:]
    sentence = row[5]
    assert sentence.startswith("reviewer requested changes")
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_exported_cells_that_would_run_are_defused(reviewer):
    # Anyone can type a user name at the sign-in form, and the failure is recorded.
    from audits.services.account_security import account_sign_in_failed_record

    account_sign_in_failed_record(username="=HYPERLINK(1)", request=None)
    response = client_for(reviewer).get(
        reverse("audit-trail-export"), {"action": "account.sign_in_failed"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    [row] = list(csv.reader(io.StringIO(text)))[1:]
    assert row[7] == "'=HYPERLINK(1)"


def test_the_page_shows_the_latest_chain_verification(reviewer, history):
    audit_chain_verify_and_record()
    html = client_for(reviewer).get(reverse("audit-trail")).content.decode()
    assert "verified" in html and "events intact" in html
    AuditEvent.objects.filter(action="submission.create").update(payload={"forged": True})
    audit_chain_verify_and_record()
    html = client_for(reviewer).get(reverse("audit-trail")).content.decode()
    latest = AuditEvent.objects.filter(action="audit_log.verify").order_by("-sequence").first()
    assert "broken" in html
    assert escape(latest.payload["break"]) in html


def test_a_page_costs_the_same_queries_however_many_events(
    reviewer, lab, django_assert_max_num_queries
):
    client = client_for(reviewer)
    client.get(reverse("audit-trail"))  # warm the session and content types

    def add(count):
        from django.db import transaction

        with transaction.atomic():
            for number in range(count):
                audit_event_record(
                    actor=None,
                    action="rubric.load",
                    object_type="rubric",
                    object_id=f"urn:x@{number}",
                    organization=lab,
                )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add(5)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit-trail"))
    add(120)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("audit-trail"))
    assert len(many) == len(few)
