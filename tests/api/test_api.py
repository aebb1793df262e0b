"""The REST API through its endpoints: filing, uploads, lists, keys, idempotency, errors."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from audits.models import AuditEvent, IdempotencyRecord, OrganizationAPIKey, Submission
from tests.api.conftest import key_client
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db
DECLARED = {"accuracy_declaration": True}
URL = "/api/v1/submissions/"


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert "Traceback" not in response.content.decode()
    return body["error"]


# --- filing ---------------------------------------------------------------------------------


def test_filing_document_opens_a_draft_and_answers_with_what_it_extracted(lab_key, filing_document):
    response = lab_key.post(URL, {"filing": filing_document}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["submission"]["status"] == "draft"
    assert body["filing"]["extracted"]["fields"]["training.objectives"] == [
        "self_supervised",
        "rlhf",
    ]
    assert body["filing"]["extracted"]["diagnostics"][0]["metric"] == (
        "situational_awareness.sad_score"
    )
    assert "model.architecture" in body["filing"]["facts"]["missing"]
    submission = Submission.objects.get(reference=body["submission"]["reference"])
    assert submission.created_by == lab_key.api_key.principal


def test_invalid_filing_is_a_422_naming_the_field_and_leaves_no_draft(lab_key, filing_document):
    filing_document["training"]["objectives"] = ["telepathy"]

    response = lab_key.post(URL, {"filing": filing_document}, format="json")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "intake_error"
    assert "telepathy" in error["message"] or "objectives" in error.get("field", "")
    assert error["file"] == "filing.json"
    assert not Submission.objects.exists()


def test_empty_draft_needs_model_name_and_version(lab_key):
    assert lab_key.post(URL, {"model_name": "Orbit"}, format="json").status_code == 400
    response = lab_key.post(URL, {"model_name": "Orbit", "model_version": "1"}, format="json")
    assert response.status_code == 201
    assert response.json()["filing"] is None


def test_regulator_cannot_file(as_user, reviewer):
    response = as_user(reviewer).post(URL, {"model_name": "X", "model_version": "1"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


# --- uploads and the lifecycle ----------------------------------------------------------------


def test_diagnostics_upload_reports_extracted_metrics_and_submit_assesses(lab_key, lab_member):
    draft = make_draft(lab_member)
    csv = b"metric,value,n\nreward_hacking.rate,0.06,2500\nsome.unknown_metric,0.3,10\n"

    response = lab_key.post(
        f"{URL}{draft.reference}/diagnostics/",
        {"file": SimpleUploadedFile("diag.csv", csv)},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    metrics = {d["metric"]: d["value"] for d in body["extracted"]["diagnostics"]}
    assert metrics["reward_hacking.rate"] == 0.06
    assert body["upload"]["kind"] == "diagnostics"
    assert body["upload"]["file"]["sha256"]

    submitted = lab_key.post(f"{URL}{draft.reference}/submit/", DECLARED, format="json")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assessment = lab_key.get(f"{URL}{draft.reference}/assessment/")
    assert assessment.status_code == 200
    assert assessment.json()["tier"] == submitted.json()["tier"]


def test_bad_diagnostics_file_is_a_422_with_its_line(lab_key, lab_member):
    draft = make_draft(lab_member)
    csv = b"metric,value\nreward_hacking.rate,0.1\nreward_hacking.rate,seven\n"

    response = lab_key.post(
        f"{URL}{draft.reference}/diagnostics/",
        {"file": SimpleUploadedFile("diag.csv", csv)},
        format="multipart",
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["file"] == "diag.csv"
    assert error.get("line") == 3, error


def test_submitting_twice_is_a_409_with_allowed_moves(lab_key, lab_member):
    draft = make_draft(lab_member)
    assert (
        lab_key.post(f"{URL}{draft.reference}/submit/", DECLARED, format="json").status_code == 200
    )

    response = lab_key.post(f"{URL}{draft.reference}/submit/", DECLARED, format="json")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["details"]["current"] == "submitted"


def test_override_requires_a_reason(as_user, lab_member, reviewer):
    draft = make_draft(lab_member)
    client = as_user(reviewer)
    lab = as_user(lab_member)
    lab.post(f"{URL}{draft.reference}/submit/", DECLARED, format="json")
    client.post(f"{URL}{draft.reference}/start-review/")
    criterion = client.get(f"{URL}{draft.reference}/assessment/").json()["result"]["criteria"][0]

    missing = client.post(
        f"{URL}{draft.reference}/overrides/",
        {"criterion": criterion["id"], "level": 0},
        format="json",
    )
    done = client.post(
        f"{URL}{draft.reference}/overrides/",
        {"criterion": criterion["id"], "level": 0, "reason": "The probe study rules it out."},
        format="json",
    )

    assert missing.status_code == 400
    assert error_of(missing)["field"] == "reason"
    assert done.status_code == 201
    assessment = client.get(f"{URL}{draft.reference}/assessment/").json()
    assert assessment["overrides"][0]["reason"] == "The probe study rules it out."


# --- lists --------------------------------------------------------------------------------------


def test_list_filters_by_status_and_model(lab_key, lab_member):
    make_draft(lab_member, model_name="Atlas")
    submitted = make_draft(lab_member, model_name="Orbit")
    lab_key.post(f"{URL}{submitted.reference}/submit/", DECLARED, format="json")

    by_status = lab_key.get(URL, {"status": "submitted"}).json()
    by_model = lab_key.get(URL, {"model": "Atlas"}).json()
    by_tier = lab_key.get(URL, {"tier": ["low", "moderate", "high", "critical"]}).json()

    assert [s["reference"] for s in by_status["results"]] == [submitted.reference]
    assert [s["model"] for s in by_model["results"]] == ["Atlas"]
    assert [s["reference"] for s in by_tier["results"]] == [submitted.reference]
    assert lab_key.get(URL, {"status": "bogus"}).status_code == 400


def test_list_page_size_is_capped(lab_key, lab_member, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for index in range(5):
        make_draft(lab_member, model_name=f"Model {index}")
    response = lab_key.get(URL, {"page_size": 100_000})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (5, 3)
    assert body["next"] is not None


@pytest.mark.parametrize("count", [1, 6])
def test_list_runs_a_constant_number_of_queries(count, lab_member, lab, django_assert_num_queries):
    client = key_client(lab)
    for index in range(count):
        make_draft(lab_member, model_name=f"Model {index}")
    client.get(URL)  # warm: last_used_at is written at most once a minute
    # key + principal lookup, count, the page's ids, the page's rows.
    with django_assert_num_queries(4):
        response = client.get(URL, {"ordering": "-score"})
    assert response.json()["count"] == count


def test_fast_list_rows_match_the_documented_serializer(lab_key, lab_member, reviewer):
    from audits import selectors
    from audits.api.serializers import SubmissionSerializer, submission_rows

    draft = make_draft(lab_member)
    lab_key.post(f"{URL}{draft.reference}/submit/", DECLARED, format="json")
    make_draft(lab_member, model_name="Orbit")
    rows = list(selectors.submissions_listed(user=lab_member))

    assert submission_rows(rows) == SubmissionSerializer(rows, many=True).data


def test_other_tenants_never_appear(lab_member, other_lab_key):
    make_draft(lab_member)
    assert other_lab_key.get(URL).json()["count"] == 0


# --- API keys ---------------------------------------------------------------------------------


def test_lab_admin_creates_a_key_shown_once_and_hashed(as_user, lab_admin):
    client = as_user(lab_admin)

    response = client.post(
        "/api/v1/api-keys/", {"name": "release CI", "scope": "read"}, format="json"
    )

    assert response.status_code == 201
    plaintext = response.json()["key"]
    row = OrganizationAPIKey.objects.get(prefix=response.json()["prefix"])
    assert plaintext not in (row.hashed_key, row.id)
    listed = client.get("/api/v1/api-keys/").json()["results"]
    assert "key" not in listed[0]
    assert AuditEvent.objects.filter(action="api_key.create", object_id=row.prefix).exists()


def test_read_key_cannot_write(lab_read_key):
    response = lab_read_key.post(URL, {"model_name": "X", "model_version": "1"}, format="json")
    assert response.status_code == 403
    assert "read-only" in error_of(response)["message"]


def test_revoked_and_expired_keys_are_401(lab):
    revoked = key_client(lab)
    revoked.api_key.revoked = True
    revoked.api_key.save()
    expired = key_client(lab, name="old")
    OrganizationAPIKey.objects.filter(pk=expired.api_key.pk).update(
        expiry_date=timezone.now() - timedelta(days=1)
    )
    bogus = key_client(lab, name="bogus")
    bogus.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")

    for client, words in ((revoked, "revoked"), (expired, "expired"), (bogus, "not valid")):
        response = client.get(URL)
        assert response.status_code == 401
        assert words in error_of(response)["message"]
        assert response["WWW-Authenticate"] == "Api-Key"


def test_key_use_is_recorded(lab_key):
    lab_key.get(URL)
    lab_key.api_key.refresh_from_db()
    assert lab_key.api_key.last_used_at is not None


def test_revoking_through_the_api(as_user, lab_admin, lab_key):
    response = as_user(lab_admin).delete(f"/api/v1/api-keys/{lab_key.api_key.prefix}/")
    assert response.status_code == 200
    assert response.json()["revoked"] is True
    assert lab_key.get(URL).status_code == 401


def test_create_api_key_command(lab, capsys):
    call_command("create_api_key", "Example Lab", "--name", "ci", "--quiet")
    plaintext = capsys.readouterr().out.strip()
    assert OrganizationAPIKey.objects.is_valid(plaintext)


# --- idempotency --------------------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_response(lab_key, filing_document):
    first = lab_key.post(URL, {"filing": filing_document}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = lab_key.post(URL, {"filing": filing_document}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_a_422(lab_key, filing_document):
    lab_key.post(URL, {"filing": filing_document}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    filing_document["model"]["version"] = "9.9"

    response = lab_key.post(
        URL, {"filing": filing_document}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Submission.objects.count() == 1


def test_idempotent_key_creation_never_stores_the_plaintext(as_user, lab_admin):
    client = as_user(lab_admin)
    body = {"name": "ci", "scope": "read"}
    first = client.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    again = client.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="a")

    assert "key" in first.json() and "key" not in again.json()
    assert OrganizationAPIKey.objects.count() == 1
    assert first.json()["key"] not in str(IdempotencyRecord.objects.get().response_body)


# --- errors and limits --------------------------------------------------------------------------


def test_unknown_route_and_method_and_media_type_use_the_error_shape(lab_key):
    assert error_of(lab_key.get("/api/v1/nowhere/"))["code"] == "not_found"
    not_allowed = lab_key.delete(URL)
    assert not_allowed.status_code == 405
    assert error_of(not_allowed)["code"] == "method_not_allowed"
    unsupported = lab_key.post(URL, b"<xml/>", content_type="application/xml")
    assert unsupported.status_code == 415
    assert error_of(unsupported)["code"] == "unsupported_media_type"


def test_anonymous_is_401(api):
    response = api.get(URL)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_request_size_limit_is_a_413(lab_key, settings):
    settings.API_MAX_REQUEST_BYTES = 100
    response = lab_key.post(URL, {"model_name": "x" * 200, "model_version": "1"}, format="json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_upload_size_limit(lab_key, lab_member, settings):
    draft = make_draft(lab_member)
    settings.GOVPORTAL_MAX_UPLOAD_BYTES = 10
    response = lab_key.post(
        f"{URL}{draft.reference}/evidence/",
        {"file": SimpleUploadedFile("big.md", b"x" * 100)},
        format="multipart",
    )
    assert response.status_code == 400
    assert error_of(response)["field"] == "file"


def test_throttled_per_key_with_retry_after(lab, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "principal": "2/min"}
    from audits.api.throttling import PrincipalRateThrottle

    original = PrincipalRateThrottle.THROTTLE_RATES
    PrincipalRateThrottle.THROTTLE_RATES = rates
    try:
        client, other = key_client(lab), key_client(lab, name="second")
        statuses = [client.get(URL).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert other.get(URL).status_code == 200  # a bucket per key
        response = client.get(URL)
        assert error_of(response)["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
    finally:
        PrincipalRateThrottle.THROTTLE_RATES = original
        cache.clear()


def test_unexpected_errors_are_a_500_without_a_trace(lab_key, monkeypatch):
    from audits import selectors

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "submissions_listed", broken)
    response = lab_key.get(URL)
    assert response.status_code == 500
    assert "secret" not in response.content.decode()
    assert error_of(response)["code"] == "server_error"


def test_filing_schema_is_public(api):
    for url in ("/schemas/filing-v1.json", "/api/v1/schemas/filing-v1.json"):
        response = api.get(url)
        assert response.status_code == 200
        assert response.json()["title"] == "govportal filing v1"


def test_docs_are_served_without_a_cdn(api):
    page = api.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page


def test_a_body_nested_fifty_thousand_levels_deep_is_a_located_400(lab_key):
    body = "[" * 50_000 + "]" * 50_000
    response = lab_key.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_the_public_verify_endpoint_ignores_a_stale_key(api):
    api.credentials(HTTP_AUTHORIZATION="Api-Key notakey.reallynot")
    response = api.get("/api/v1/reports/verify/", {"sha256": "0" * 64})
    assert response.status_code == 200
    assert response.json()["issued"] is False


def test_regulators_never_see_files_of_an_answer_not_yet_sent(
    lab_key, lab_member, reviewer, as_user
):
    from audits.services import submissions as lifecycle
    from tests.conftest import make_draft

    submission = lifecycle.submission_submit(
        submission=make_draft(lab_member), acting_user=lab_member, accuracy_declared=True
    )
    lifecycle.submission_request_changes(
        submission=lifecycle.submission_start_review(submission=submission, acting_user=reviewer),
        acting_user=reviewer,
        rationale="More.",
    )
    uploaded = lab_key.post(
        f"{URL}{submission.reference}/evidence/",
        {"file": SimpleUploadedFile("draft-answer.md", b"# Not sent yet\n")},
        format="multipart",
    )
    assert uploaded.status_code == 201
    sha256 = uploaded.json()["upload"]["file"]["sha256"]
    assert "draft-answer.md" in str(lab_key.get(f"{URL}{submission.reference}/").json())
    regulator = as_user(reviewer)
    detail = regulator.get(f"{URL}{submission.reference}/").json()
    assert "draft-answer.md" not in str(detail)
    from django.test import Client

    from tests.signing_in import sign_in

    browser = sign_in(Client(), reviewer)
    page = browser.get(f"/submissions/{submission.reference}/").content.decode()
    assert "draft-answer.md" not in page
    download = browser.get(f"/submissions/{submission.reference}/download/{sha256}/")
    assert download.status_code == 404


def test_a_pipeline_previews_the_assessment_before_it_submits(lab_key, lab_member):
    draft = make_draft(lab_member)
    cards = draft.modelcards.count()
    url = f"{URL}{draft.reference}/assessment/preview/"
    bare = lab_key.post(url, {}, format="json")
    assert bare.status_code == 200, bare.content
    assert bare.json()["result"]["insufficient_evidence"] is True
    fuller = lab_key.post(
        url,
        {
            "filing": {
                "filing_schema": "govportal/filing/1",
                "model": {"name": "Atlas", "version": "2.1", "developer": "Example Lab"},
                "training": {"environment_diversity": "narrow", "task_families": 3},
            }
        },
        format="json",
    )
    assert fuller.status_code == 200
    body = fuller.json()
    assert body["facts"]["training"]["task_families"] == 3
    assert body["result"]["coverage"] >= bare.json()["result"]["coverage"]
    # Nothing was stored: the draft has no assessment and no new upload.
    draft.refresh_from_db()
    assert draft.current_assessment is None and draft.modelcards.count() == cards
    broken = lab_key.post(
        url,
        {"filing": {"filing_schema": "govportal/filing/1", "model": {"scope": "x"}}},
        format="json",
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["field"]
