"""Every /api/v1/ route × every role × own/other tenant's objects (machinery: tests/authz).

Allowed → 2xx; another tenant's object → 404; own object, too small a role → 403;
anonymous → 401. A route added without an entry here fails `test_every_route_has_an_entry`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.urls import reverse

from audits.models import Assessment, Evidence, Override, Report
from audits.services.api_keys import api_key_create
from audits.services.assessment import assessment_run
from audits.services.files import stored_file_put
from tests.authz.matrix import (
    EVERYONE_SIGNED_IN,
    LAB_MEMBERS,
    LAB_WRITERS,
    OWN,
    REGULATORS,
    Entry,
    Expect,
    World,
    assert_every_route_covered,
    cases,
    check_response,
    state_fingerprint,
    urlconf_routes,
    webhook_endpoint_of,
)

NS = "api-v1:"
DECIDERS = REGULATORS  # the assigned reviewer, or a regulator admin
FILING = (
    b'{"filing_schema": "govportal/filing/1", '
    b'"model": {"name": "Atlas", "version": "2.1", "developer": "Example Lab"}}'
)


def submission_in(status: str):
    def target(world: World, actor: str, ownership: str) -> dict[str, Any]:
        return {"reference": world.target_submission(actor, ownership, status).reference}

    return target


def report_of_submitted(world: World, actor: str, ownership: str) -> dict[str, Any]:
    submission = world.target_submission(actor, ownership, "submitted")
    # A regulator's "other" object is a draft: give it an assessment so a report row
    # exists and the 404 comes from visibility, not from absence.
    assessment = Assessment.objects.filter(submission=submission).first() or assessment_run(
        submission=submission
    )
    version = (submission.reports.aggregate(v=Max("version"))["v"] or 0) + 1
    pdf = stored_file_put(
        name="report.pdf",
        content=b"%PDF-1.7 matrix " + submission.reference.encode(),
        content_type="application/pdf",
    )
    Report.objects.create(
        submission=submission,
        revision=submission.revision,
        version=version,
        kind=Report.Kind.PROVISIONAL,
        assessment=assessment,
        status=Report.Status.READY,
        pdf=pdf,
        sha256=pdf.sha256,
    )
    return {"reference": submission.reference, "version": version}


def upload_being_worked_on(world: World, actor: str, ownership: str) -> dict[str, Any]:
    """An evidence file attached to the revision a lab answers a change request with."""
    submission = world.target_submission(actor, ownership, "changes_requested")
    upload = Evidence.objects.create(
        submission=submission,
        revision=submission.working_revision,
        stored_file=stored_file_put(name="study.md", content=b"# Probe study\n"),
        file_name="study.md",
        uploaded_by=submission.created_by,
    )
    return {"reference": submission.reference, "kind": "evidence", "upload_id": upload.pk}


def pending_override(world: World, actor: str, ownership: str) -> dict[str, Any]:
    """A filing under review with an override carried from revision 1, waiting."""
    submission = world.target_submission(actor, ownership, "under_review")
    assessment = submission.current_assessment or assessment_run(submission=submission)
    criterion = assessment.result["criteria"][0]
    Override.objects.create(
        assessment=assessment,
        criterion=criterion["id"],
        automated_level=criterion["level"],
        level=0,
        reason="Probe study shows otherwise.",
        author=submission.created_by,
        status=Override.Status.PENDING,
        origin_revision=1,
        status_note="facts changed",
    )
    return {"reference": submission.reference, "criterion": criterion["id"]}


def key_of(world: World, actor: str, ownership: str) -> dict[str, Any]:
    own = world.organization_of(actor)
    if ownership == OWN and own is not None:
        organization = own
    else:
        organization = world.target_organization(actor, ownership)
    api_key, _ = api_key_create(organization=organization, acting_user=None, name="target")
    return {"prefix": api_key.prefix}


def rubric(world: World, actor: str, ownership: str) -> dict[str, Any]:
    return {"reference": "urn:govportal:rubric:mesa-optimization@1.0.0"}


def upload(name: str, content: bytes, **fields: str):
    def body(world: World, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return {"file": SimpleUploadedFile(name, content), **fields}, "multipart"

    return body


def json_body(**fields: Any):
    def body(world: World, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return dict(fields), "json"

    return body


def override_body(world: World, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str]:
    assessment = Assessment.objects.filter(submission__reference=kwargs["reference"]).first()
    criterion = assessment.result["criteria"][0]["id"] if assessment else "C1"
    return {"criterion": criterion, "level": 0, "reason": "Probe study shows otherwise."}, "json"


def query(**params: str):
    def body(world: World, kwargs: dict[str, Any]) -> tuple[dict[str, Any], None]:
        return dict(params), None

    return body


ENTRIES = [
    Entry(NS + "me", "get"),
    Entry(NS + "submission-list", "get"),
    Entry(
        NS + "submission-list",
        "post",
        allowed=LAB_WRITERS,
        body=json_body(model_name="Orbit", model_version="1.0"),
    ),
    Entry(NS + "submission-detail", "get", target=submission_in("submitted")),
    # Files and resubmission: after a change request, visible to the lab and regulators.
    Entry(
        NS + "model-card",
        "post",
        allowed=LAB_WRITERS,
        target=submission_in("changes_requested"),
        body=upload("card.json", FILING),
    ),
    Entry(
        NS + "diagnostics",
        "post",
        allowed=LAB_WRITERS,
        target=submission_in("changes_requested"),
        body=upload("diag.csv", b"metric,value\nreward_hacking.rate,0.1\n"),
    ),
    Entry(
        NS + "evidence",
        "post",
        allowed=LAB_WRITERS,
        target=submission_in("changes_requested"),
        body=upload("study.md", b"# Probe study\n", description="probes"),
    ),
    Entry(
        NS + "submit",
        "post",
        allowed=LAB_WRITERS,
        target=submission_in("changes_requested"),
        body=json_body(accuracy_declaration=True),
    ),
    Entry(NS + "upload-remove", "delete", allowed=LAB_WRITERS, target=upload_being_worked_on),
    Entry(NS + "start-review", "post", allowed=REGULATORS, target=submission_in("submitted")),
    Entry(
        NS + "assign",
        "post",
        allowed=REGULATORS,
        target=submission_in("submitted"),
        body=json_body(reviewer="reviewer"),
    ),
    Entry(
        NS + "request-changes",
        "post",
        allowed=DECIDERS,
        target=submission_in("under_review"),
        body=json_body(rationale="More, please."),
    ),
    Entry(
        NS + "accept",
        "post",
        allowed=DECIDERS,
        target=submission_in("under_review"),
        body=json_body(rationale="Fine."),
    ),
    Entry(
        NS + "reject",
        "post",
        allowed=DECIDERS,
        target=submission_in("under_review"),
        body=json_body(rationale="No."),
    ),
    Entry(NS + "comments", "get", target=submission_in("submitted")),
    Entry(
        NS + "comments",
        "post",
        allowed=LAB_WRITERS | REGULATORS,
        target=submission_in("submitted"),
        body=json_body(body="Please say more about the probes."),
    ),
    Entry(
        NS + "overrides",
        "post",
        allowed=DECIDERS,
        target=submission_in("under_review"),
        body=override_body,
    ),
    Entry(
        NS + "override-confirm",
        "post",
        allowed=DECIDERS,
        target=pending_override,
        body=json_body(reason=""),
    ),
    Entry(
        NS + "override-drop",
        "post",
        allowed=DECIDERS,
        target=pending_override,
        body=json_body(reason="The new horizon explains it."),
    ),
    Entry(
        NS + "assessment-preview",
        "post",
        allowed=LAB_WRITERS,
        target=submission_in("changes_requested"),
        body=json_body(filing={}),
    ),
    Entry(NS + "assessment", "get", target=submission_in("submitted")),
    Entry(NS + "assessments", "get", target=submission_in("submitted")),
    Entry(NS + "reports", "get", target=submission_in("submitted")),
    Entry(
        NS + "reports",
        "post",
        allowed=LAB_WRITERS | REGULATORS,
        target=submission_in("submitted"),
        note="renders a PDF in-process",
    ),
    Entry(
        NS + "report-corrections",
        "post",
        allowed=DECIDERS,
        target=submission_in("accepted"),
        body=json_body(reason="Matrix check."),
        note="renders two signed PDFs in-process",
    ),
    Entry(NS + "report-detail", "get", target=report_of_submitted),
    Entry(NS + "report-pdf", "get", target=report_of_submitted),
    Entry(NS + "report-verify", "get", public=True, body=query(sha256="0" * 64)),
    Entry(NS + "report-verify", "post", public=True, body=upload("x.pdf", b"%PDF-1.7 unknown")),
    Entry(NS + "rubric-list", "get"),
    Entry(NS + "rubric-detail", "get", target=rubric, tenanted=False),
    Entry(NS + "filing-schema", "get", public=True),
    Entry(NS + "api-key-list", "get", allowed=frozenset({"lab_admin"})),
    Entry(
        NS + "api-key-list",
        "post",
        allowed=frozenset({"lab_admin"}),
        body=json_body(name="ci", scope="read"),
    ),
    Entry(NS + "api-key-detail", "get", allowed=frozenset({"lab_admin"}), target=key_of),
    Entry(NS + "api-key-detail", "delete", allowed=frozenset({"lab_admin"}), target=key_of),
    Entry(NS + "webhook-list", "get", allowed=LAB_MEMBERS),
    Entry(
        NS + "webhook-list",
        "post",
        allowed=frozenset({"lab_admin"}),
        body=json_body(url="https://93.184.215.14/hook", event_types=["report.ready"]),
    ),
    Entry(NS + "webhook-detail", "get", allowed=LAB_MEMBERS, target=webhook_endpoint_of),
    Entry(
        NS + "webhook-detail",
        "patch",
        allowed=frozenset({"lab_admin"}),
        target=webhook_endpoint_of,
        body=json_body(description="Release CI"),
    ),
    Entry(
        NS + "webhook-detail",
        "delete",
        allowed=frozenset({"lab_admin"}),
        target=webhook_endpoint_of,
    ),
    Entry(
        NS + "webhook-rotate-secret",
        "post",
        allowed=frozenset({"lab_admin"}),
        target=webhook_endpoint_of,
    ),
    Entry(
        NS + "webhook-test", "post", allowed=frozenset({"lab_admin"}), target=webhook_endpoint_of
    ),
    Entry(NS + "webhook-deliveries", "get", allowed=LAB_MEMBERS, target=webhook_endpoint_of),
    Entry(NS + "schema", "get", public=True),
    Entry(NS + "docs", "get", public=True),
    Entry(NS + "redoc", "get", public=True),
]
# The catch-all that answers unknown /api/ paths with the JSON 404 is not a route.
EXEMPT = {NS + "not-found"}
assert EVERYONE_SIGNED_IN


def test_every_route_has_an_entry():
    assert_every_route_covered(urlconf_routes("api/v1/"), ENTRIES, exempt=EXEMPT)


@pytest.mark.parametrize("case", list(cases(ENTRIES)), ids=lambda case: case.id)
def test_matrix(case, db):
    world = World.build()
    entry = case.entry
    kwargs = entry.target(world, case.actor, case.ownership) if entry.target else {}
    data, content_format = entry.body(world, kwargs)
    client = world.client(case.actor)
    call = getattr(client, entry.method)
    url = reverse(entry.route, kwargs=kwargs)
    before = state_fingerprint()
    response = call(url, data, format=content_format) if content_format else call(url, data)
    expect = entry.expected(case.actor, case.ownership)
    check_response(response, expect)
    if expect is not Expect.OK:
        assert state_fingerprint() == before, f"{case.id}: a refused request changed something"
