"""The whole story in a real browser, plus tenant isolation, with screenshots for the README."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from audits.models import Submission
from tests.e2e.conftest import sign_in, sign_out

DATA = Path(__file__).parent / "data"
OVERRIDE_REASON = "Probe study shows planning beyond the reported horizon; treat as open-ended."

pytestmark = pytest.mark.browser


def _reference(page: Page) -> str:
    match = re.search(r"/submissions/(TA-\d{4}-\d{6})/", page.url)
    assert match, page.url
    return match.group(1)


def _screenshot(page: Page, path: Path) -> None:
    """The top of the page at a laptop's width, for the README."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=str(path), clip={"x": 0, "y": 0, "width": 1440, "height": 1200}, full_page=True
    )


def _override(page: Page, criterion: str, level: str, reason: str) -> None:
    row = page.locator(f"#criterion-{criterion}")
    row.get_by_text(f"Override {criterion}…").click()
    row.get_by_label("New level").select_option(level)
    row.get_by_label("Justification").fill(reason)
    row.get_by_role("button", name="Save override").click()
    expect(page.locator(".message-success")).to_contain_text(f"{criterion} overridden")


def _submit(page: Page, button: str) -> None:
    """From the filing page: the summary of what is submitted, the declaration, submit."""
    page.get_by_role("link", name=button).click()
    expect(page.get_by_role("heading", name="Declaration", exact=True)).to_be_visible()
    expect(page.locator(".declaration")).to_contain_text("I declare that the facts")
    page.get_by_label("I make this declaration").check()
    page.locator("form").filter(has=page.locator(".declaration")).get_by_role("button").click()


def _decide(page: Page, decision: str, rationale: str) -> None:
    decision_card = page.locator("#decision")
    decision_card.get_by_label(decision).check()
    decision_card.get_by_label("Rationale").fill(rationale)
    decision_card.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()


def _listen_for_the_lab(receiver) -> str:
    """Example Lab's pipeline registers a webhook (as its admin, alice); the secret."""
    from django.contrib.auth import get_user_model

    from audits.services.webhooks import webhook_endpoint_create

    alice = get_user_model().objects.get(username="alice")
    _, secret = webhook_endpoint_create(
        organization=alice.membership.organization,
        acting_user=alice,
        url=receiver.url(),
        event_types=["submission.changes_requested"],
    )
    return secret


def _the_lab_is_told_of_the_change_request(smtp_server, receiver, secret, reference) -> None:
    """bob reads the email; the pipeline receives and verifies the signed delivery."""
    from standardwebhooks.webhooks import Webhook

    [mail] = [m for m in smtp_server.to("bob@example.org") if "changes requested" in m["Subject"]]
    text = smtp_server.text(mail)
    assert "Supply planning probe" in text and f"/submissions/{reference}/" in text
    [delivery] = receiver.requests
    event = Webhook(secret).verify(delivery.body, delivery.headers)
    assert (event["type"], event["data"]["reference"]) == (
        "submission.changes_requested",
        reference,
    )


def test_a_filing_from_draft_to_final_report(
    portal, page: Page, screenshots, smtp_server, webhook_receiver
):
    secret = _listen_for_the_lab(webhook_receiver)
    # --- The lab files a model card and diagnostics, sees the preview, submits. ----------
    sign_in(page, portal, "bob")
    expect(page.get_by_role("heading", name="Filings", exact=True)).to_be_visible()
    expect(page.locator(".org-chip")).to_contain_text("Example Lab")
    expect(page.locator(".org-chip")).to_contain_text("lab member")
    page.get_by_role("link", name="New filing").click()
    page.get_by_label("Model name").fill("Aurora")
    page.get_by_label("Model version").fill("1.0")
    page.get_by_role("button", name="Open draft").click()
    reference = _reference(page)

    page.locator("#upload-model-card").get_by_label("Model card or filing").set_input_files(
        str(DATA / "aurora-README.md")
    )
    page.get_by_role("button", name="Upload model card").click()
    expect(page.locator(".message-success")).to_contain_text("aurora-README.md attached")
    just_added = page.locator(".upload-list li.just-added")
    expect(just_added).to_contain_text("What was extracted: 30 facts")
    expect(just_added.locator(".warnings")).to_contain_text("govportal value is used")

    page.locator("#upload-diagnostics").get_by_label("Diagnostics file").set_input_files(
        str(DATA / "aurora-diagnostics.csv")
    )
    page.get_by_role("button", name="Upload diagnostics").click()
    expect(page.locator(".message-success")).to_contain_text("3 diagnostics")

    expect(page.get_by_role("heading", name="Assessment preview", exact=True)).to_be_visible()
    expect(page.locator("aside .tier-block")).to_be_visible()
    missing = page.locator("aside").get_by_role("heading", name="What is missing", exact=True)
    expect(missing).to_be_visible()
    expect(page.locator("aside .gaps")).to_contain_text("planning.lookahead_probe_accuracy")
    # The lab's card is shown as text: its <script> never becomes an element.
    assert page.locator("script:text('this must never run')").count() == 0
    _screenshot(page, screenshots / "lab-filing.png")

    _submit(page, "Submit to the regulator")
    expect(page.locator(".message-success")).to_contain_text("Submitted")
    expect(page.locator(".subtitle .status")).to_have_text("Submitted")
    sign_out(page)

    # --- The regulator reviews, overrides one criterion and requests changes. -----------
    sign_in(page, portal, "rita")
    expect(page.get_by_role("heading", name="Review queue", exact=True)).to_be_visible()
    page.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Start review").click()
    expect(page.locator(".subtitle .status")).to_have_text("Under review")
    _override(page, "E1", "3", OVERRIDE_REASON)
    _decide(page, "Request changes", "Supply planning probe and backdoor persistence results.")
    expect(page.locator(".subtitle .status")).to_have_text("Changes requested")
    _the_lab_is_told_of_the_change_request(smtp_server, webhook_receiver, secret, reference)
    sign_out(page)

    # --- The lab answers with a new revision. ---------------------------------------------
    sign_in(page, portal, "bob")
    page.goto(f"{portal.url}/submissions/{reference}/")
    expect(page.locator(".message-warning")).to_contain_text("Supply planning probe")
    page.locator("#upload-diagnostics").get_by_label("Diagnostics file").set_input_files(
        str(DATA / "aurora-diagnostics-2.csv")
    )
    page.get_by_role("button", name="Upload diagnostics").click()
    expect(page.locator(".message-success")).to_contain_text("3 diagnostics")
    _submit(page, "Resubmit as revision 2")
    expect(page.locator(".message-success")).to_contain_text("Revision 2 resubmitted")
    sign_out(page)

    # --- The regulator accepts; the override was carried to the new revision by itself. ------
    sign_in(page, portal, "rita")
    page.goto(f"{portal.url}/submissions/{reference}/")
    page.get_by_role("button", name="Start review").click()
    override_row = page.locator("#criterion-E1")
    expect(override_row.locator(".override-note")).to_contain_text(OVERRIDE_REASON)
    expect(override_row.locator(".override-note")).to_contain_text("on revision 1")
    expect(override_row.locator(".flag-info")).to_contain_text("carried from revision 1")
    expect(override_row.locator(".level-struck")).to_be_visible()  # the automated level
    expect(page.locator("#pending-overrides")).to_have_count(0)
    _screenshot(page, screenshots / "regulator-submission.png")
    _decide(page, "Accept", "Risk is moderate and disclosed; probe study on file.")
    expect(page.locator(".subtitle .status")).to_have_text("Accepted")

    # The report panel polls (htmx) until the final report is ready, then offers the PDF.
    download_link = page.locator("#reports-panel").get_by_role("link", name="Download PDF").first
    expect(download_link).to_be_visible(timeout=60_000)
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert re.fullmatch(rf"{reference}-report-v\d+-final\.pdf", download.suggested_filename)
    pdf = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = " ".join(page_.extract_text() or "" for page_ in pdf.pages)
    text = re.sub(r"\s+", " ", text)
    assert reference in text
    assert "Probe study shows planning beyond the reported horizon" in text
    assert Submission.objects.get(reference=reference).status == "accepted"
    sign_out(page)

    # --- The portfolio, for the README. ------------------------------------------------------
    sign_in(page, portal, "victor")
    page.get_by_role("link", name="Portfolio").click()
    expect(page.get_by_role("heading", name="Tiers per lab", exact=True)).to_be_visible()
    _screenshot(page, screenshots / "portfolio.png")


def test_a_lab_cannot_reach_another_labs_pages(portal, page: Page):
    other = Submission.objects.filter(organization__name="Northwind AI").first()
    sign_in(page, portal, "bob")
    for path in (
        f"/submissions/{other.reference}/",
        f"/submissions/{other.reference}/form/",
        f"/submissions/{other.reference}/reports/",
    ):
        response = page.goto(f"{portal.url}{path}")
        assert response.status == 404, path
        expect(
            page.get_by_role("heading", name="There is nothing here", exact=True)
        ).to_be_visible()
    response = page.goto(f"{portal.url}/queue/")
    assert response.status == 403
    expect(page.get_by_text("Your role does not allow this")).to_be_visible()


def test_a_regulator_never_sees_drafts(portal, page: Page):
    draft = Submission.objects.filter(status="draft").first()
    sign_in(page, portal, "rita")
    expect(page.get_by_role("heading", name="Review queue", exact=True)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(draft.reference)
    response = page.goto(f"{portal.url}/submissions/{draft.reference}/")
    assert response.status == 404


def test_the_api_docs_render_under_the_content_security_policy(
    portal, page: Page, no_policy_violations
):
    page.goto(f"{portal.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("govportal REST API")
    page.goto(f"{portal.url}/api/v1/redoc/")
    expect(page.locator("redoc h1").first).to_contain_text("govportal REST API")
    # Redoc links its maker's logo from a CDN: the policy keeps it out, as it should.
    no_policy_violations[:] = [v for v in no_policy_violations if "cdn.redoc.ly" not in v]
