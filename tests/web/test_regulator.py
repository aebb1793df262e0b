"""Regulators in the portal: the queue, assignment, overrides, decisions, portfolio, exports."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audits import selectors
from audits.models import AuditEvent, Comment, Override, Report, Review, Submission
from audits.services import submissions as lifecycle
from tests.conftest import make_draft
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
# Session, user and membership, the second factor that verified the session and the bell's
# unread count, then the page's own: the same for any count.
QUERIES_PER_PORTFOLIO = 16
QUERIES_PER_QUEUE = 9


def _filed(user, name, version="1"):
    return lifecycle.submission_submit(
        submission=make_draft(user, name, version), acting_user=user, accuracy_declared=True
    )


def test_the_queue_never_shows_drafts(lab_member, reviewer):
    draft = make_draft(lab_member, "Atlas", "draft")
    filed = _filed(lab_member, "Atlas", "filed")
    html = client_for(reviewer).get(reverse("queue")).content.decode()
    assert filed.reference in html
    assert draft.reference not in html


def test_the_queue_filters_by_lab_status_tier_age_and_assignee(
    lab_member, other_lab_member, reviewer, second_reviewer
):
    ours = _filed(lab_member, "Atlas")
    theirs = _filed(other_lab_member, "Orion")
    lifecycle.submission_start_review(submission=theirs, acting_user=second_reviewer)
    Submission.objects.filter(pk=ours.pk).update(submitted_at=timezone.now() - timedelta(days=20))
    client = client_for(reviewer)

    def shown(**params):
        html = client.get(reverse("queue"), params).content.decode()
        return {s.reference for s in (ours, theirs) if s.reference in html}

    assert shown(lab="example-lab") == {ours.reference}
    assert shown(status="under_review") == {theirs.reference}
    assert shown(age="14") == {ours.reference}
    assert (
        client_for(second_reviewer)
        .get(reverse("queue"), {"mine": "on"})
        .content.decode()
        .count(theirs.reference)
    )
    assert shown(mine="on") == set()
    tier = ours.assessments.first().tier
    assert ours.reference in client.get(reverse("queue"), {"tier": tier}).content.decode()


def test_the_queue_sorts_by_a_column_both_ways(lab_member, reviewer):
    references = [_filed(lab_member, "Atlas", str(n)).reference for n in range(3)]
    client = client_for(reviewer)
    for sort, expected in (("reference", references), ("-reference", references[::-1])):
        html = client.get(reverse("queue"), {"sort": sort}).content.decode()
        assert sorted(references, key=html.index) == expected
    assert 'aria-sort="descending"' in html


@pytest.mark.parametrize("count", [1, 8])
def test_the_queue_costs_the_same_queries_for_many_filings(
    count, lab_member, reviewer, django_assert_num_queries
):
    for n in range(count):
        _filed(lab_member, "Atlas", str(n))
    client = client_for(reviewer)
    client.get(reverse("queue"))  # warm: the session's first read
    # session, user, membership and its organization, the labs for the filter, the page's
    # count and its rows.
    with django_assert_num_queries(QUERIES_PER_QUEUE):
        assert client.get(reverse("queue")).status_code == 200


def test_the_review_page_shows_evidence_facts_and_assessment(lab_member, reviewer):
    filed = _filed(lab_member, "Atlas")
    html = client_for(reviewer).get(reverse("submission", args=[filed.reference])).content.decode()
    for text in ("Assessment, criterion by criterion", "Facts with provenance", "Start review"):
        assert text in html
    assert "filing.json" in html  # provenance of the model name


def test_start_review_assigns_the_reviewer(lab_member, reviewer):
    filed = _filed(lab_member, "Atlas")
    client_for(reviewer).post(reverse("start-review", args=[filed.reference]))
    filed.refresh_from_db()
    assert (filed.status, filed.assigned_to) == ("under_review", reviewer)


def test_a_reviewer_may_not_assign_someone_else(under_review, reviewer, second_reviewer):
    response = client_for(reviewer).post(
        reverse("assign", args=[under_review.reference]), {"reviewer": second_reviewer.pk}
    )
    assert response.status_code == 403
    under_review.refresh_from_db()
    assert under_review.assigned_to == reviewer


def test_an_admin_assigns_a_reviewer(under_review, regulator_admin, second_reviewer):
    client_for(regulator_admin).post(
        reverse("assign", args=[under_review.reference]), {"reviewer": second_reviewer.pk}
    )
    under_review.refresh_from_db()
    assert under_review.assigned_to == second_reviewer


def test_an_override_needs_a_justification(under_review, reviewer):
    response = client_for(reviewer).post(
        reverse("override", args=[under_review.reference]),
        {"criterion": "E1", "level": "3", "reason": "   "},
    )
    assert response.status_code == 400
    assert not Override.objects.exists()


def test_an_override_keeps_the_automated_level_beside_it(under_review, reviewer):
    client = client_for(reviewer)
    response = client.post(
        reverse("override", args=[under_review.reference]),
        {"criterion": "E1", "level": "3", "reason": "Broader than stated."},
    )
    assert response.status_code == 302
    override = Override.objects.get()
    html = client.get(reverse("submission", args=[under_review.reference])).content.decode()
    assert "Broader than stated." in html
    assert f"Overridden from {override.automated_level} to 3" in html
    assert 'class="level level-' in html and "level-struck" in html


def test_only_the_assigned_reviewer_or_an_admin_overrides(under_review, second_reviewer):
    response = client_for(second_reviewer).post(
        reverse("override", args=[under_review.reference]),
        {"criterion": "E1", "level": "3", "reason": "Not mine to change."},
    )
    assert response.status_code == 403


def test_comments_on_a_criterion(under_review, reviewer, lab_member):
    client_for(reviewer).post(
        reverse("comment", args=[under_review.reference]),
        {"criterion": "E2", "body": "Is the compute figure total or final run?"},
    )
    comment = Comment.objects.get()
    assert comment.criterion == "E2"
    html = client_for(lab_member).get(reverse("submission", args=[under_review.reference]))
    assert "Is the compute figure total or final run?" in html.content.decode()


def test_a_decision_needs_a_rationale(under_review, reviewer):
    response = client_for(reviewer).post(
        reverse("decide", args=[under_review.reference]), {"decision": "accept", "rationale": ""}
    )
    assert response.status_code == 400
    under_review.refresh_from_db()
    assert under_review.status == "under_review"


def test_accepting_issues_the_final_report(under_review, reviewer):
    response = client_for(reviewer).post(
        reverse("decide", args=[under_review.reference]),
        {"decision": "accept", "rationale": "Disclosed and bounded."},
    )
    assert response.status_code == 302
    under_review.refresh_from_db()
    assert under_review.status == "accepted"
    assert Review.objects.get().rationale == "Disclosed and bounded."
    assert Report.objects.filter(submission=under_review, kind="final").exists()


def test_a_ready_report_downloads(under_review, reviewer, lab_member):
    from audits.services.files import stored_file_put

    stored = stored_file_put(name="r.pdf", content=b"%PDF-1.7 report")
    report = Report.objects.create(
        submission=under_review,
        revision=1,
        version=9,
        kind="provisional",
        assessment=under_review.assessments.first(),
        status="ready",
        pdf=stored,
        sha256=stored.sha256,
    )
    for user in (reviewer, lab_member):
        response = client_for(user).get(
            reverse("report-pdf", args=[under_review.reference, report.version])
        )
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content) == b"%PDF-1.7 report"
    # Each copy taken is on the record, naming who took it.
    downloads = AuditEvent.objects.filter(action="report.download").order_by("sequence")
    assert [event.actor_label for event in downloads] == ["reviewer", "lab-member"]
    assert downloads[0].payload["sha256"] == stored.sha256


def test_evidence_downloads_are_on_the_record(under_review, reviewer):
    from audits.models import ModelCard

    card = ModelCard.objects.filter(submission=under_review).select_related("stored_file").first()
    response = client_for(reviewer).get(
        reverse("file-download", args=[under_review.reference, card.stored_file.sha256])
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="evidence.download")
    assert (event.actor_label, event.payload["file"]) == ("reviewer", card.file_name)


def test_a_report_not_ready_is_not_found(under_review, reviewer):
    response = client_for(reviewer).get(reverse("report-pdf", args=[under_review.reference, 1]))
    assert response.status_code == 404


def _well_evidenced(user, name):
    """A filing whose evidence covers most criteria (the demo coding agent's filing)."""
    from audits.services.intake import model_card_attach

    draft = make_draft(user, name, "1")
    demo = Path(__file__).resolve().parents[2] / "audits" / "fixtures" / "demo"
    document = (demo / "tessellate-coder-2.0.filing.yaml").read_text(encoding="utf-8")
    document = document.replace("Tessellate Coder", name).replace('"2.0"', '"1"')
    model_card_attach(
        submission=draft, acting_user=user, file_name="filing.yaml", content=document.encode()
    )
    return lifecycle.submission_submit(submission=draft, acting_user=user, accuracy_declared=True)


def test_the_portfolio_charts_every_filed_submission(lab_member, other_lab_member, regulator_admin):
    _well_evidenced(lab_member, "Atlas")
    _well_evidenced(other_lab_member, "Orion")
    _filed(lab_member, "Thin")  # name, version and developer only
    html = client_for(regulator_admin).get(reverse("portfolio")).content.decode()
    for title in ("Tiers per lab", "Tiers over time", "Criteria most often at level 3"):
        assert title in html
    assert html.count("<svg") >= 3
    assert "Example Lab" in html and "Second Lab" in html
    # The thin filing is not counted in any tier: it is counted as insufficient evidence.
    summary = selectors.portfolio(user=regulator_admin)
    assert (summary.total, summary.insufficient, sum(summary.tiers.values())) == (3, 1, 2)


def test_the_portfolio_costs_the_same_queries_for_many_filings(
    lab_member, regulator_admin, django_assert_num_queries
):
    client = client_for(regulator_admin)
    _well_evidenced(lab_member, "Atlas")
    client.get(reverse("portfolio"))  # warm caches (session, rubric)
    with django_assert_num_queries(QUERIES_PER_PORTFOLIO):
        client.get(reverse("portfolio"))
    for index in range(4):
        _filed(lab_member, f"More-{index}")
    with django_assert_num_queries(QUERIES_PER_PORTFOLIO):
        client.get(reverse("portfolio"))


def test_the_portfolio_is_for_regulator_admins(reviewer):
    assert client_for(reviewer).get(reverse("portfolio")).status_code == 403


def test_exports_defuse_formulas_in_lab_text(lab_member, regulator_admin):
    _filed(lab_member, '=HYPERLINK("http://evil","x")', "@SUM(A1)")
    client = client_for(regulator_admin)
    text = client.get(reverse("queue-export-csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Reference"
    assert rows[1][2] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1][3] == "'@SUM(A1)"
    workbook = load_workbook(io.BytesIO(client.get(reverse("queue-export-xlsx")).content))
    sheet = workbook.active
    # Typed as text: shown exactly as the lab wrote it, and never evaluated.
    assert sheet["C2"].value == '=HYPERLINK("http://evil","x")'
    assert sheet["C2"].data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_exports_follow_the_queue_filters(lab_member, other_lab_member, regulator_admin):
    ours = _filed(lab_member, "Atlas")
    theirs = _filed(other_lab_member, "Orion")
    text = (
        client_for(regulator_admin)
        .get(reverse("queue-export-csv"), {"lab": "second-lab"})
        .content.decode("utf-8-sig")
    )
    assert theirs.reference in text and ours.reference not in text


def test_publishing_a_rubric_shows_the_rescoring_diff(
    lab_member, regulator_admin, reviewer, django_capture_on_commit_callbacks, tasks_in_process
):
    from audits.models import Rubric, RubricPublication

    filed = _filed(lab_member, "Atlas")
    current = Rubric.objects.get(in_force=True)
    content = {**current.content, "version": "1.0.1"}
    newer = Rubric.objects.create(
        urn=current.urn, version="1.0.1", sha256="f" * 64, content=content
    )
    admin = client_for(regulator_admin)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = admin.post(reverse("rubric-publish", args=[newer.pk]))
    publication = RubricPublication.objects.get(rubric=newer)
    assert response.status_code == 302
    assert response["Location"] == reverse("rubric-publication", args=[publication.pk])
    newer.refresh_from_db()
    assert newer.in_force
    # The request only enqueued the work: the page shows it waiting, and polls.
    page = admin.get(response["Location"]).content.decode()
    assert 'data-state="queued"' in page and "hx-trigger" in page
    for callback in enqueued:
        with django_capture_on_commit_callbacks(execute=True):
            callback()

    progress = admin.get(
        reverse("rubric-publication-progress", args=[publication.pk]), HTTP_HX_REQUEST="true"
    )
    assert progress["HX-Refresh"] == "true" and 'data-state="done"' in progress.content.decode()
    page = client_for(reviewer).get(reverse("rubric-publication", args=[publication.pk]))
    html = page.content.decode()
    assert "<strong>1</strong> of <strong>1</strong> filings" in html
    assert f'data-reference="{filed.reference}"' in html and "What changed" in html
    html = client_for(reviewer).get(reverse("submission", args=[filed.reference])).content.decode()
    assert "Re-scored under" in html and "1.0.1" in html


def test_a_labs_member_sees_no_publication(lab_member, regulator_admin):
    from audits.models import Rubric, RubricPublication

    publication = RubricPublication.objects.create(rubric=Rubric.objects.get(in_force=True))
    response = client_for(lab_member).get(reverse("rubric-publication", args=[publication.pk]))
    assert response.status_code == 403
    assert "Publications" not in client_for(lab_member).get(reverse("rubrics")).content.decode()
    assert "Publications" in client_for(regulator_admin).get(reverse("rubrics")).content.decode()


def test_only_a_regulator_admin_publishes(reviewer):
    from audits.models import Rubric

    rubric = Rubric.objects.get(in_force=True)
    assert client_for(reviewer).post(reverse("rubric-publish", args=[rubric.pk])).status_code == 403


def test_the_queue_says_insufficient_evidence_first_and_filters_on_it_and_on_overdue(
    lab_member, reviewer
):
    thin = _filed(lab_member, "Thin")
    full = _well_evidenced(lab_member, "Full")
    client = client_for(reviewer)
    html = client.get(reverse("queue")).content.decode()
    assert 'Insufficient evidence</span> <span class="tier-provisional">provisional tier' in html
    only_thin = client.get(reverse("queue"), {"evidence": "insufficient"}).content.decode()
    assert thin.reference in only_thin and full.reference not in only_thin
    enough = client.get(reverse("queue"), {"evidence": "sufficient"}).content.decode()
    assert full.reference in enough and thin.reference not in enough
    Submission.objects.filter(pk=thin.pk).update(review_due_at=timezone.now() - timedelta(days=1))
    overdue = client.get(reverse("queue"), {"due": "overdue"}).content.decode()
    assert thin.reference in overdue and full.reference not in overdue
    assert "overdue</span>" in overdue
