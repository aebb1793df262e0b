"""The portal's authorization matrix: every audits.web URL × role × own/other organization.

A URL added to audits/web/urls.py without an entry here fails
`test_every_portal_url_is_in_the_matrix`.
For the portal, as for the API, "allowed" means a 2xx or 3xx answer other than a redirect to
the sign-in page: every entry's request is one the role may make successfully.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits.models import (
    Evidence,
    Membership,
    MetricAlias,
    ModelCard,
    Override,
    Report,
    Rubric,
    Submission,
)
from audits.services.api_keys import api_key_create
from audits.services.files import stored_file_put
from tests.authz.matrix import (
    OTHER,
    PEOPLE,
    REGULATORS,
    Case,
    Entry,
    Expect,
    World,
    cases,
    state_fingerprint,
    urlconf_routes,
    webhook_endpoint_of,
)
from tests.signing_in import sign_in

ACTORS = (*PEOPLE, "anonymous")
LAB = frozenset({"lab_member", "lab_admin"})
ADMINS = frozenset({"lab_admin", "regulator_admin"})
DECIDERS = frozenset({"reviewer", "regulator_admin"})  # the assigned reviewer or an admin
SIGNED_IN = frozenset(PEOPLE)


def submission_in(status: str, regulator_status: str | None = None):
    """URL kwargs of a submission in `status` (regulators get one they may see)."""

    def target(world: World, actor: str, ownership: str) -> dict[str, Any]:
        wanted = status
        if actor in REGULATORS and status == "draft" and ownership != OTHER:
            wanted = regulator_status or "submitted"
        submission = world.target_submission(actor, ownership, wanted)
        return {"reference": submission.reference}

    return target


def with_file(world: World, actor: str, ownership: str) -> dict[str, Any]:
    kwargs = submission_in("draft")(world, actor, ownership)
    card = ModelCard.objects.filter(submission__reference=kwargs["reference"]).first()
    return {**kwargs, "sha256": card.stored_file.sha256}


def with_report(world: World, actor: str, ownership: str) -> dict[str, Any]:
    kwargs = submission_in("submitted")(world, actor, ownership)
    submission = Submission.objects.get(reference=kwargs["reference"])
    if submission.status == "draft":
        return {**kwargs, "version": 1}  # a regulator's "other": a draft it cannot see
    stored = stored_file_put(
        name="r.pdf", content=b"%PDF-1.4 matrix " + kwargs["reference"].encode()
    )
    Report.objects.filter(submission=submission).delete()
    Report.objects.create(
        submission=submission,
        revision=submission.revision,
        version=1,
        kind=Report.Kind.PROVISIONAL,
        assessment=submission.assessments.first(),
        status=Report.Status.READY,
        pdf=stored,
        sha256=stored.sha256,
    )
    return {**kwargs, "version": 1}


def upload_kind(world: World, actor: str, ownership: str) -> dict[str, Any]:
    return {**submission_in("draft")(world, actor, ownership), "kind": "evidence"}


def upload_being_worked_on(world: World, actor: str, ownership: str) -> dict[str, Any]:
    """An evidence file of a draft (for a regulator: of a filing it may see)."""
    kwargs = submission_in("draft", "changes_requested")(world, actor, ownership)
    submission = Submission.objects.get(reference=kwargs["reference"])
    upload = Evidence.objects.create(
        submission=submission,
        revision=submission.working_revision,
        stored_file=stored_file_put(name="study.md", content=b"# A study\n"),
        file_name="study.md",
        uploaded_by=submission.created_by,
    )
    return {**kwargs, "kind": "evidence", "upload_id": upload.pk}


def pending_override(world: World, actor: str, ownership: str) -> dict[str, Any]:
    kwargs = submission_in("under_review")(world, actor, ownership)
    submission = Submission.objects.get(reference=kwargs["reference"])
    assessment = submission.current_assessment
    if assessment is not None:
        Override.objects.create(
            assessment=assessment,
            criterion="E1",
            automated_level=0,
            level=3,
            reason="Matrix check.",
            author=world.users["reviewer"],
            status=Override.Status.PENDING,
            origin_revision=1,
        )
    return kwargs


def metric_alias(world: World, actor: str, ownership: str) -> dict[str, Any]:
    alias = MetricAlias.objects.create(pattern="lm_eval:matrix/acc", metric="reward_hacking.rate")
    return {"pk": alias.pk}


def own_member(world: World, actor: str, ownership: str) -> dict[str, Any]:
    organization = world.organization_of(actor) or world.lab
    membership = Membership.objects.filter(organization=organization, role="member").first()
    return {"user_id": membership.user_id}


def own_key(world: World, actor: str, ownership: str) -> dict[str, Any]:
    own = world.organization_of(actor)
    organization = own if ownership != OTHER and own else world.target_organization(actor, OTHER)
    key, _ = api_key_create(organization=organization, acting_user=None, name="matrix")
    return {"prefix": key.prefix}


def rubric(world: World, actor: str, ownership: str) -> dict[str, Any]:
    return {"pk": Rubric.objects.get(in_force=True).pk}


def publication(world: World, actor: str, ownership: str) -> dict[str, Any]:
    from audits.models import RubricPublication

    done = RubricPublication.objects.create(rubric=Rubric.objects.get(in_force=True), state="done")
    return {"pk": done.pk}


def reset_link(world: World, actor: str, ownership: str) -> dict[str, Any]:
    return {"uidb64": "MQ", "token": "set-password"}


def notification_of(world: World, actor: str, ownership: str) -> dict[str, Any]:
    """One of the actor's notifications, or (other) someone else's."""
    from audits.models import Notification

    people = [user for name, user in world.users.items() if name != actor]
    recipient = world.users.get(actor) if ownership != OTHER else people[0]
    recipient = recipient or people[0]  # anonymous: anyone's
    notification = Notification.objects.create(
        recipient=recipient, kind="comment", subject="Matrix", body="Matrix."
    )
    return {"pk": notification.pk}


def evidence_file(world: World) -> SimpleUploadedFile:
    return SimpleUploadedFile("study.txt", b"An evidence file.")


def body(values: dict[str, Any]):
    def build(world: World, kwargs: dict[str, Any]) -> tuple[dict[str, Any], None]:
        resolved = {k: (v(world) if callable(v) else v) for k, v in values.items()}
        return resolved, None

    return build


ENTRIES = [
    Entry("home", "get", SIGNED_IN),
    Entry("login", "get", public=True),
    Entry("logout", "post", public=True),
    Entry("account", "get", SIGNED_IN),
    Entry("password_change", "get", SIGNED_IN),
    Entry("password_change_done", "get", SIGNED_IN),
    Entry("password_reset", "get", public=True),
    Entry("password_reset_done", "get", public=True),
    Entry("password_reset_confirm", "get", public=True, target=reset_link, tenanted=False),
    Entry("password_reset_complete", "get", public=True),
    Entry("report-verify", "get", public=True),
    Entry("report-signing-certificate", "get", public=True),
    # Lab staff
    Entry("filings", "get", LAB),
    Entry("filing-new", "get", LAB),
    Entry("upload", "post", LAB, target=upload_kind, body=body({"file": evidence_file})),
    Entry("filing-form", "get", LAB, target=submission_in("draft")),
    Entry("filing-preview", "post", LAB, target=submission_in("draft")),
    # A regulator's own case is a filing it may see that could be resubmitted.
    Entry("submit", "get", LAB, target=submission_in("draft", "changes_requested")),
    Entry(
        "submit",
        "post",
        LAB,
        target=submission_in("draft", "changes_requested"),
        body=body({"accuracy_declaration": "on"}),
    ),
    Entry("upload-remove", "post", LAB, target=upload_being_worked_on),
    # One filing, for its lab and for regulators
    Entry("submission", "get", SIGNED_IN, target=submission_in("draft")),
    Entry("reports", "get", SIGNED_IN, target=submission_in("draft")),
    Entry("report-pdf", "get", SIGNED_IN, target=with_report),
    Entry(
        "report-correct",
        "post",
        DECIDERS,
        target=submission_in("accepted"),
        body=body({"reason": "Matrix check."}),
    ),
    Entry("file-download", "get", SIGNED_IN, target=with_file),
    Entry(
        "comment", "post", SIGNED_IN, target=submission_in("draft"), body=body({"body": "Noted."})
    ),
    # Regulators
    Entry("queue", "get", REGULATORS),
    Entry("queue-export-csv", "get", REGULATORS),
    Entry("queue-export-xlsx", "get", REGULATORS),
    Entry("portfolio", "get", frozenset({"regulator_admin"})),
    Entry("start-review", "post", REGULATORS, target=submission_in("submitted")),
    Entry(
        "assign",
        "post",
        REGULATORS,
        target=submission_in("submitted"),
        body=body({"reviewer": lambda world: world.users["reviewer"].pk}),
    ),
    Entry(
        "override",
        "post",
        DECIDERS,
        target=submission_in("under_review"),
        body=body({"criterion": "E1", "level": 3, "reason": "Matrix check."}),
    ),
    Entry(
        "decide",
        "post",
        DECIDERS,
        target=submission_in("under_review"),
        body=body({"decision": "request_changes", "rationale": "Matrix check."}),
    ),
    Entry(
        "override-resolve",
        "post",
        DECIDERS,
        target=pending_override,
        body=body({"criterion": "E1", "resolution": "confirm", "reason": ""}),
    ),
    Entry("rubrics", "get", SIGNED_IN),
    Entry("metric-aliases", "get", frozenset({"regulator_admin"})),
    Entry(
        "metric-aliases",
        "post",
        frozenset({"regulator_admin"}),
        body=body({"pattern": "lm_eval:matrix_task/acc", "metric": "reward_hacking.rate"}),
    ),
    Entry(
        "metric-alias-remove",
        "post",
        frozenset({"regulator_admin"}),
        target=metric_alias,
        tenanted=False,
    ),
    Entry("rubric-publish", "post", frozenset({"regulator_admin"}), target=rubric, tenanted=False),
    Entry("rubric-publication", "get", REGULATORS, target=publication, tenanted=False),
    Entry("rubric-publication-progress", "get", REGULATORS, target=publication, tenanted=False),
    Entry(
        "rubric-publication-retry",
        "post",
        frozenset({"regulator_admin"}),
        target=publication,
        tenanted=False,
    ),
    # Admins of an organization
    Entry("members", "get", ADMINS),
    Entry(
        "member-role",
        "post",
        ADMINS,
        target=own_member,
        tenanted=False,
        body=body({"role": "member"}),
    ),
    Entry("member-remove", "post", ADMINS, target=own_member, tenanted=False),
    Entry("api-keys", "get", frozenset({"lab_admin"})),
    Entry("api-key-revoke", "post", frozenset({"lab_admin"}), target=own_key),
    # Everyone's own: second factor, notifications
    Entry("two-factor-verify", "get", SIGNED_IN),
    Entry("two-factor-setup", "get", SIGNED_IN),
    Entry("two-factor-recovery-codes", "post", SIGNED_IN),
    Entry("two-factor-remove", "post", SIGNED_IN, body=body({"token": "000000"})),
    Entry("notification-preferences", "get", SIGNED_IN),
    Entry("notifications", "get", SIGNED_IN),
    Entry("notifications-read-all", "post", SIGNED_IN),
    Entry("notification-read", "post", SIGNED_IN, target=notification_of),
    # The audit trail: regulators, and lab admins for their own organization
    Entry("audit-trail", "get", REGULATORS | {"lab_admin"}),
    Entry("audit-trail-export", "get", REGULATORS | {"lab_admin"}),
    # A lab admin's webhooks
    Entry("webhooks", "get", frozenset({"lab_admin"})),
    Entry("webhook", "get", frozenset({"lab_admin"}), target=webhook_endpoint_of),
    Entry("webhook-rotate", "post", frozenset({"lab_admin"}), target=webhook_endpoint_of),
    Entry("webhook-test", "post", frozenset({"lab_admin"}), target=webhook_endpoint_of),
    Entry("webhook-delete", "post", frozenset({"lab_admin"}), target=webhook_endpoint_of),
]


def test_every_portal_url_is_in_the_matrix():
    routes = {route.name for route in urlconf_routes("", "audits.web.urls")}
    declared = {entry.route for entry in ENTRIES}
    assert routes - declared == set(), f"portal URLs without a matrix entry: {routes - declared}"
    assert declared - routes == set(), f"matrix entries for no URL: {declared - routes}"


def _allowed(response: Any, route: str) -> bool:
    if not 200 <= response.status_code < 400:
        return False
    if route == "logout":
        return True
    location = response.get("Location", "")
    return not (response.status_code == 302 and reverse("login") in location)


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(cases(ENTRIES, ACTORS)), ids=lambda case: case.id)
def test_portal_authorization(case: Case):
    world = World.build()
    entry, actor = case.entry, case.actor
    kwargs = entry.target(world, actor, case.ownership) if entry.target else {}
    data, _ = entry.body(world, kwargs)
    client = Client()
    if actor != "anonymous":
        sign_in(client, world.users[actor])
    url = reverse(entry.route, kwargs=kwargs)
    before = state_fingerprint()
    response = getattr(client, entry.method)(url, data or {})
    expect = entry.expected(actor, case.ownership)
    code = response.status_code
    # Every answer, allowed or refused, carries the page security headers.
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    )
    assert "camera=()" in response["Permissions-Policy"]
    if expect is Expect.OK:
        assert _allowed(response, entry.route), (
            f"{case.id}: expected to pass authorization, got {code}"
        )
        return
    assert state_fingerprint() == before, f"{case.id}: a refused request changed something"
    if expect is Expect.UNAUTHENTICATED:
        assert code == 302 and reverse("login") in response["Location"], f"{case.id}: got {code}"
    elif expect is Expect.NOT_FOUND:
        assert code == 404, f"{case.id}: expected 404, got {code}"
    else:
        assert code == 403, f"{case.id}: expected 403, got {code}"
