"""REST API v1 views: parse, call one service or selector, respond.

Visibility is the selectors' (another tenant's object is a 404), roles are the services'
(an own object with too small a role is a 403); both raise, and `errors.py` answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import FileResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audits import selectors
from audits.api import serializers as s
from audits.api.errors import Conflict, PayloadTooLarge
from audits.api.idempotency import Replay, idempotency_begin, idempotency_finish
from audits.api.pagination import PagePagination
from audits.api.parsers import BoundedJSONParser
from audits.api.permissions import IsOrganizationMember, KeyScopeAllows
from audits.intake.types import IntakeErrors
from audits.models import Assessment, OrganizationAPIKey, Report, Submission
from audits.roles import membership_of
from audits.services import api_keys, filings, intake, reports, review, submissions
from audits.services.audit_log import download_record
from audits.services.files import stored_file_open

FILING_SCHEMA_PATH = settings.BASE_DIR / "audits" / "schemas" / "filing-v1.json"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Repeat a POST safely: the same key and body return the first response.",
)


class ApiView(APIView):
    """Members of an organization; size limits; Idempotency-Key on every POST."""

    permission_classes = [IsOrganizationMember, KeyScopeAllows]
    # Response fields an Idempotency-Key replay leaves out (they are not stored).
    idempotency_redact: tuple[str, ...] = ()
    _idempotency: Any = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_REQUEST_BYTES:
            raise PayloadTooLarge(
                f"The request body is {int(length):,} bytes; the API accepts at most "
                f"{settings.API_MAX_REQUEST_BYTES:,}."
            )
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and request.user.is_authenticated:
            self._idempotency = idempotency_begin(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # A PDF download is a FileResponse, which DRF passes through untouched.
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if self._idempotency is not None and isinstance(response, Response):
            idempotency_finish(self._idempotency, response, redact=self.idempotency_redact)
            self._idempotency = None
        return response

    @property
    def acting_user(self) -> User:
        """The person, or the API key's principal, the request acts as (past IsAuthenticated)."""
        user = self.request.user
        assert isinstance(user, User)
        return user

    def submission(self, reference: str) -> Submission:
        return selectors.submission_get(user=self.request.user, reference=reference)

    def submission_data(self, submission: Submission) -> dict[str, Any]:
        # Re-read with the current tier annotations after a change.
        listed = selectors.submissions_listed(user=self.request.user)
        return s.SubmissionSerializer(listed.get(pk=submission.pk)).data

    def paginate(self, queryset: Any, serializer_class: type, **context: Any) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)


def valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- who am I -----------------------------------------------------------------------------


class WhoAmIView(ApiView):
    @extend_schema(responses=s.WhoAmISerializer, summary="The caller: organization, role, key")
    def get(self, request: Request) -> Response:
        membership = membership_of(request.user)
        assert membership is not None  # IsOrganizationMember
        api_key = request.auth if isinstance(request.auth, OrganizationAPIKey) else None
        return Response(
            s.WhoAmISerializer(
                {
                    "username": request.user.get_username(),
                    "organization": membership.organization,
                    "organization_kind": membership.organization.kind,
                    "role": membership.role_label,
                    "api_key": api_key,
                }
            ).data
        )


# --- submissions --------------------------------------------------------------------------


class SubmissionListView(ApiView):
    @extend_schema(
        parameters=[s.SubmissionListQuerySerializer],
        responses=s.page_of(s.SubmissionSerializer),
        operation_id="submissions_list",
        summary="List the filings you may see (a lab: its own; a regulator: all but drafts)",
    )
    def get(self, request: Request) -> Response:
        query = valid(s.SubmissionListQuerySerializer, request.query_params)
        filters = selectors.SubmissionListFilters(
            statuses=tuple(sorted(query.get("status") or ())),
            model=query.get("model", ""),
            model_version=query.get("model_version", ""),
            tiers=tuple(sorted(query.get("tier") or ())),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
            submitted_after=query.get("submitted_after"),
            submitted_before=query.get("submitted_before"),
            ordering=query["ordering"],
        )
        listed = selectors.submissions_listed(user=request.user, filters=filters)
        # Page over ids first: the database then sorts narrow rows, and joins and annotates
        # only the page (one more query, whatever the page holds).
        paginator = PagePagination()
        ids = paginator.paginate_queryset(listed.values_list("pk", flat=True), request, view=self)
        rows = {row.pk: row for row in listed.filter(pk__in=list(ids or [])).order_by()}
        page = [rows[pk] for pk in ids or [] if pk in rows]
        return paginator.get_paginated_response(s.submission_rows(page))

    @extend_schema(
        request=s.SubmissionCreateSerializer,
        responses={201: s.SubmissionCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Open a filing: from a filing document, or an empty draft",
    )
    def post(self, request: Request) -> Response:
        body = valid(s.SubmissionCreateSerializer, request.data)
        created = filings.submission_file(
            acting_user=self.acting_user,
            model_name=body["model_name"],
            model_version=body["model_version"],
            filing=body.get("filing"),
        )
        filing = s.attach_outcome_data(created.outcome) if created.outcome else None
        return Response(
            {"submission": self.submission_data(created.submission), "filing": filing},
            status=status.HTTP_201_CREATED,
        )


class SubmissionDetailView(ApiView):
    @extend_schema(responses=s.SubmissionDetailSerializer, summary="One filing and its files")
    def get(self, request: Request, reference: str) -> Response:
        found = selectors.submission_with_files(user=request.user, reference=reference)
        data = s.SubmissionSerializer(found.submission).data
        data["model_cards"] = s.UploadSerializer(found.model_cards, many=True).data
        data["diagnostics"] = s.UploadSerializer(found.diagnostics, many=True).data
        data["evidence"] = s.UploadSerializer(found.evidence, many=True).data
        return Response(data)


class UploadView(ApiView):
    """POST a file of one kind to a filing; DELETE one from the revision being worked on."""

    parser_classes = [MultiPartParser]
    kind = ""
    upload_serializer: type = s.FileUploadSerializer

    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        body = valid(self.upload_serializer, request.data)
        upload = body["file"]
        outcome = intake.upload_attach(
            submission=submission,
            acting_user=self.acting_user,
            kind=self.kind,
            file_name=upload.name,
            content=upload.read(),
            supersedes=body.get("supersedes", ""),
            description=body.get("description", ""),
        )
        return Response(s.attach_outcome_data(outcome), status=status.HTTP_201_CREATED)


def _upload_schema(serializer: type, summary: str) -> Any:
    return extend_schema(
        request={"multipart/form-data": serializer},
        responses={201: s.AttachOutcomeSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary=summary,
    )


@extend_schema_view(
    post=_upload_schema(s.FileUploadSerializer, "Attach a model card or filing document")
)
class ModelCardUploadView(UploadView):
    kind = "model-card"


@extend_schema_view(post=_upload_schema(s.DiagnosticsUploadSerializer, "Attach a diagnostics file"))
class DiagnosticsUploadView(UploadView):
    kind = "diagnostics"
    upload_serializer = s.DiagnosticsUploadSerializer


@extend_schema_view(post=_upload_schema(s.EvidenceUploadSerializer, "Attach an evidence file"))
class EvidenceUploadView(UploadView):
    kind = "evidence"
    upload_serializer = s.EvidenceUploadSerializer


class UploadRemoveView(ApiView):
    @extend_schema(
        # 200 with the facts as they are now (a bare serializer would document a DELETE as 204).
        responses={200: s.FactsSummarySerializer},
        summary="Remove a file from the revision being worked on (drafts, change requests)",
        description="Files of submitted revisions stay on record; supersede them instead.",
    )
    def delete(self, request: Request, reference: str, kind: str, upload_id: int) -> Response:
        submission = self.submission(reference)
        facts = intake.upload_remove(
            submission=submission, acting_user=self.acting_user, kind=kind, upload_id=upload_id
        )
        return Response(s.FactsSummarySerializer(facts).data)


# --- actions ------------------------------------------------------------------------------


class ActionView(ApiView):
    """POST an action to a submission; answers with the submission as it is afterwards."""

    body_serializer: type | None = None

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        raise NotImplementedError

    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        body = valid(self.body_serializer, request.data) if self.body_serializer else {}
        return Response(self.submission_data(self.act(submission, body)))


def _action_schema(summary: str, body: type | None = None) -> Any:
    return extend_schema_view(
        post=extend_schema(
            request=body,
            responses=s.SubmissionSerializer,
            parameters=[IDEMPOTENCY_PARAMETER],
            summary=summary,
        )
    )


@_action_schema("Submit the draft (or resubmit after a change request)", s.SubmitSerializer)
class SubmitView(ActionView):
    body_serializer = s.SubmitSerializer

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        return submissions.submission_submit(
            submission=submission,
            acting_user=self.acting_user,
            accuracy_declared=body["accuracy_declaration"],
        )


@_action_schema("Take a submitted filing into review (regulators)")
class StartReviewView(ActionView):
    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        return submissions.submission_start_review(
            submission=submission, acting_user=self.acting_user
        )


@_action_schema(
    "Assign a reviewer (regulator admins; a reviewer takes an unassigned filing)",
    s.AssignSerializer,
)
class AssignView(ActionView):
    body_serializer = s.AssignSerializer

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        reviewer = selectors.reviewer_by_username(user=self.acting_user, username=body["reviewer"])
        return submissions.submission_assign(
            submission=submission, acting_user=self.acting_user, reviewer=reviewer
        )


@_action_schema(
    "Ask the lab for changes (assigned reviewer, regulator admins)", s.RationaleSerializer
)
class RequestChangesView(ActionView):
    body_serializer = s.RationaleSerializer

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        return submissions.submission_request_changes(
            submission=submission, acting_user=self.acting_user, rationale=body["rationale"]
        )


@_action_schema("Accept the filing (assigned reviewer, regulator admins)", s.AcceptSerializer)
class AcceptView(ActionView):
    body_serializer = s.AcceptSerializer

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        return submissions.submission_accept(
            submission=submission,
            acting_user=self.acting_user,
            rationale=body["rationale"],
            conditions=body.get("conditions") or [],
        )


@_action_schema("Reject the filing (assigned reviewer, regulator admins)", s.RationaleSerializer)
class RejectView(ActionView):
    body_serializer = s.RationaleSerializer

    def act(self, submission: Submission, body: dict[str, Any]) -> Submission:
        return submissions.submission_reject(
            submission=submission, acting_user=self.acting_user, rationale=body["rationale"]
        )


class CommentListView(ApiView):
    @extend_schema(
        responses=s.page_of(s.CommentSerializer),
        operation_id="submissions_comments_list",
        summary="Comments on a filing",
    )
    def get(self, request: Request, reference: str) -> Response:
        comments = selectors.submission_comments(user=request.user, reference=reference)
        return self.paginate(comments, s.CommentSerializer)

    @extend_schema(
        request=s.CommentCreateSerializer,
        responses={201: s.CommentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Comment on the filing or one criterion",
    )
    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        body = valid(s.CommentCreateSerializer, request.data)
        comment = review.comment_add(
            submission=submission,
            acting_user=self.acting_user,
            body=body["body"],
            criterion=body["criterion"],
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class OverrideView(ApiView):
    @extend_schema(
        request=s.OverrideCreateSerializer,
        responses={201: s.OverrideSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Override a criterion's level, with a written reason (assigned reviewer)",
    )
    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        body = valid(s.OverrideCreateSerializer, request.data)
        override = review.criterion_override(
            submission=submission,
            acting_user=self.acting_user,
            criterion=body["criterion"],
            level=body["level"],
            reason=body["reason"],
        )
        return Response(s.OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class OverrideResolveView(ApiView):
    """Confirm or drop an override carried from an earlier revision (assigned reviewer)."""

    resolve: Any = staticmethod(review.override_confirm)

    def post(self, request: Request, reference: str, criterion: str) -> Response:
        submission = self.submission(reference)
        body = valid(s.OverrideResolutionSerializer, request.data)
        override = self.resolve(
            submission=submission,
            acting_user=self.acting_user,
            criterion=criterion,
            reason=body["reason"],
        )
        return Response(s.OverrideSerializer(override).data)


def _resolution_schema(summary: str) -> Any:
    return extend_schema_view(
        post=extend_schema(
            request=s.OverrideResolutionSerializer,
            responses=s.OverrideSerializer,
            parameters=[IDEMPOTENCY_PARAMETER],
            summary=summary,
        )
    )


@_resolution_schema("Confirm an override carried from an earlier revision")
class OverrideConfirmView(OverrideResolveView):
    resolve = staticmethod(review.override_confirm)


@_resolution_schema("Drop an override (a reason is required)")
class OverrideDropView(OverrideResolveView):
    resolve = staticmethod(review.override_drop)


# --- assessments --------------------------------------------------------------------------


class AssessmentPreviewView(ApiView):
    """What a draft (or an answer to a change request) would be assessed at, stored nowhere."""

    @extend_schema(
        request=s.PreviewRequestSerializer,
        responses={200: s.PreviewSerializer},
        summary="Preview the assessment the working files would get, with an optional document",
        description=(
            "Merges the optional `filing` document (native filing schema) with the files "
            "attached to the revision being worked on and assesses the result under the rubric "
            "in force. Nothing is stored. A lab's CI can run this before it submits. Invalid "
            "or conflicting inputs answer 422 with every error located."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        body = valid(s.PreviewRequestSerializer, request.data)
        preview = selectors.assessment_preview(
            user=self.acting_user, reference=reference, document=body.get("filing") or {}
        )
        if preview.result is None:
            raise IntakeErrors(preview.errors)
        return Response({"result": preview.result, "facts": preview.document})


class AssessmentView(ApiView):
    @extend_schema(
        parameters=[s.AssessmentQuerySerializer],
        responses=s.AssessmentSerializer,
        summary="The newest assessment of a revision (the current one by default)",
    )
    def get(self, request: Request, reference: str) -> Response:
        query = valid(s.AssessmentQuerySerializer, request.query_params)
        assessments = selectors.submission_assessments(user=request.user, reference=reference)
        revision = query.get("revision")
        if revision is None:
            revision = self.submission(reference).revision
        assessment = assessments.filter(revision=revision).first()
        if assessment is None:
            raise Assessment.DoesNotExist
        return Response(s.AssessmentSerializer(assessment).data)


class AssessmentListView(ApiView):
    @extend_schema(
        responses=s.page_of(s.AssessmentSerializer),
        operation_id="submissions_assessments_list",
        summary="Every assessment of a filing, rescorings with their diff, newest first",
    )
    def get(self, request: Request, reference: str) -> Response:
        assessments = selectors.submission_assessments(user=request.user, reference=reference)
        return self.paginate(assessments, s.AssessmentSerializer)


# --- reports ------------------------------------------------------------------------------


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        # Only errors pass through a renderer here; the PDF itself is a FileResponse.
        return json.dumps(data).encode()


class ReportAcceptedView(ApiView):
    """A report request answers 202 with the report's status URL in `Location`."""

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Here rather than in post(), so an Idempotency-Key replay carries it too.
        if response.status_code == status.HTTP_202_ACCEPTED and isinstance(response, Response):
            response["Location"] = response.data["status_url"]
        return response


class ReportListView(ReportAcceptedView):
    @extend_schema(
        responses=s.page_of(s.ReportSerializer),
        operation_id="submissions_reports_list",
        summary="A filing's report versions",
    )
    def get(self, request: Request, reference: str) -> Response:
        _, report_rows = selectors.submission_reports(user=request.user, reference=reference)
        return self.paginate(report_rows, s.ReportSerializer)

    @extend_schema(
        request=None,
        responses={
            202: s.ReportSerializer,
            429: OpenApiResponse(
                s.ErrorSerializer, description="REPORT_REQUESTS_PER_HOUR reached for this filing."
            ),
        },
        parameters=[
            IDEMPOTENCY_PARAMETER,
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[202],
                description="The report's status URL (also `status_url` in the body).",
            ),
        ],
        summary="Request a provisional report of the current revision",
        description="Answers at once (202) with the pending report; it is rendered in the "
        "background: poll `status_url` until it is ready. Final reports follow a regulator's "
        "decision; after it, no provisional report is issued (a regulator may issue a "
        "corrected final report instead). Limited per filing and hour.",
    )
    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        with _rate_limited():
            report = reports.report_provisional_request(
                submission=submission, acting_user=request.user
            )
        return Response(
            s.ReportSerializer(report, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


@contextmanager
def _rate_limited() -> Iterator[None]:
    """A per-filing report limit answers 429 with Retry-After, like the API's throttle."""
    try:
        yield
    except reports.ReportRateLimited as error:
        raise exceptions.Throttled(wait=error.retry_after, detail=error.message) from None


class ReportCorrectionView(ReportAcceptedView):
    @extend_schema(
        request=s.ReportCorrectionSerializer,
        responses={
            202: s.ReportSerializer,
            429: OpenApiResponse(
                s.ErrorSerializer, description="REPORT_REQUESTS_PER_HOUR reached for this filing."
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Issue a corrected final report of a decided filing (assigned reviewer, "
        "regulator admins)",
        description="Both variants are issued and signed; the reason is printed in them and "
        "recorded in the audit log.",
    )
    def post(self, request: Request, reference: str) -> Response:
        submission = self.submission(reference)
        body = valid(s.ReportCorrectionSerializer, request.data)
        with _rate_limited():
            report = reports.report_correct(
                submission=submission, acting_user=request.user, reason=body["reason"]
            )
        return Response(
            s.ReportSerializer(report, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ReportDetailView(ApiView):
    @extend_schema(
        parameters=[s.ReportVariantQuerySerializer],
        responses=s.ReportSerializer,
        summary="One report version (a variant of it) and its status",
    )
    def get(self, request: Request, reference: str, version: int) -> Response:
        query = valid(s.ReportVariantQuerySerializer, request.query_params)
        report = selectors.report_get(
            user=request.user, reference=reference, version=version, variant=query["variant"]
        )
        return Response(s.ReportSerializer(report, context={"request": request}).data)


class ReportPdfView(ApiView):
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        parameters=[s.ReportVariantQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(s.ErrorSerializer, description="The report is not ready yet."),
        },
        summary="Download a ready report's PDF (the confidential variant unless asked)",
    )
    def get(self, request: Request, reference: str, version: int) -> HttpResponseBase:
        query = valid(s.ReportVariantQuerySerializer, request.query_params)
        report = selectors.report_get(
            user=request.user, reference=reference, version=version, variant=query["variant"]
        )
        if report.status != Report.Status.READY or report.pdf is None:
            raise Conflict(
                f"Report version {version} is {report.status}, not ready; poll its status.",
                code="report_not_ready",
            )
        name = reports.report_file_name(report)
        download_record(
            submission=report.submission,
            acting_user=self.acting_user,
            what="report",
            file_name=name,
            sha256=report.sha256,
        )
        response = FileResponse(
            stored_file_open(report.pdf),
            content_type="application/pdf",
            as_attachment=True,
            filename=name,
        )
        response["X-Content-SHA256"] = str(report.sha256)
        return response


class ReportVerifyView(ApiView):
    """Public: anyone holding a PDF may ask whether the portal issued it. Credentials are
    not read at all, so a stale key in a script never turns a public answer into a 401."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[s.ReportVerifyQuerySerializer],
        responses=s.ReportVerificationSerializer,
        summary="Was a PDF with this SHA-256 issued by the portal?",
    )
    def get(self, request: Request) -> Response:
        query = valid(s.ReportVerifyQuerySerializer, request.query_params)
        return Response(reports.report_verify(sha256=query["sha256"]))

    @extend_schema(
        request={"multipart/form-data": s.ReportVerifyUploadSerializer},
        responses={200: s.ReportVerificationSerializer},
        summary="Was this PDF issued by the portal? (upload it)",
    )
    def post(self, request: Request) -> Response:
        body = valid(s.ReportVerifyUploadSerializer, request.data)
        return Response(reports.report_verify(content=body["file"].read()))


# --- rubrics and the filing schema ----------------------------------------------------------


class RubricListView(ApiView):
    @extend_schema(
        responses=s.page_of(s.RubricSerializer),
        operation_id="rubrics_list",
        summary="Stored rubric versions",
    )
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.rubrics_published(user=request.user), s.RubricSerializer)


class RubricDetailView(ApiView):
    @extend_schema(responses=s.RubricDetailSerializer, summary="One rubric version, `urn@version`")
    def get(self, request: Request, reference: str) -> Response:
        urn, _, version = reference.rpartition("@")
        rubric = selectors.rubrics_published(user=request.user).get(urn=urn, version=version)
        return Response(s.RubricDetailSerializer(rubric).data)


class FilingSchemaView(APIView):
    """Public: the JSON Schema of the native filing."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The filing JSON Schema (v1)")
    def get(self, request: Request) -> Response:
        return Response(json.loads(FILING_SCHEMA_PATH.read_text(encoding="utf-8")))


class PublicFilingSchemaView(FilingSchemaView):
    schema = None  # documented once, under /api/v1/


# --- API keys -----------------------------------------------------------------------------


class ApiKeyListView(ApiView):
    parser_classes = [BoundedJSONParser]
    idempotency_redact = ("key",)

    @extend_schema(
        responses=s.page_of(s.ApiKeySerializer),
        operation_id="api_keys_list",
        summary="Your lab's API keys",
    )
    def get(self, request: Request) -> Response:
        return self.paginate(
            selectors.api_keys_of_organization(user=request.user), s.ApiKeySerializer
        )

    @extend_schema(
        request=s.ApiKeyCreateSerializer,
        responses={201: s.ApiKeyCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Create an API key (lab admins); the key is in this response only",
    )
    def post(self, request: Request) -> Response:
        body = valid(s.ApiKeyCreateSerializer, request.data)
        membership = membership_of(request.user)
        assert membership is not None
        api_key, plaintext = api_keys.api_key_create(
            organization=membership.organization,
            acting_user=self.acting_user,
            name=body["name"],
            scope=body["scope"],
            expires_at=body["expires_at"],
        )
        data = s.ApiKeySerializer(api_key).data
        return Response({**data, "key": plaintext}, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(ApiView):
    @extend_schema(responses=s.ApiKeySerializer, summary="One of your lab's API keys")
    def get(self, request: Request, prefix: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, prefix=prefix)
        return Response(s.ApiKeySerializer(api_key).data)

    @extend_schema(responses={200: s.ApiKeySerializer}, summary="Revoke an API key (for good)")
    def delete(self, request: Request, prefix: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, prefix=prefix)
        revoked = api_keys.api_key_revoke(api_key=api_key, acting_user=self.acting_user)
        return Response(s.ApiKeySerializer(revoked).data)
