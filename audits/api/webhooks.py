"""/api/v1/webhooks/: a lab's webhook endpoints and their deliveries.

Lab members (and their keys) read them; lab admins register, change, remove, rotate the
secret and send test events. A secret appears only in the answer that creates it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from audits import selectors_people
from audits.api.serializers import page_of
from audits.api.views import IDEMPOTENCY_PARAMETER, ApiView, valid
from audits.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from audits.roles import ensure, may_read_webhooks, require_membership
from audits.services import webhooks as service


def _event_type() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(service.EVENT_TYPES))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField())
    created_by = serializers.SerializerMethodField()
    previous_secret_valid_until = serializers.DateTimeField(
        source="previous_secret_expires_at", allow_null=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "created_at",
            "created_by",
            "previous_secret_valid_until",
        ]

    def get_created_by(self, endpoint: WebhookEndpoint) -> str | None:
        return endpoint.created_by.get_username() if endpoint.created_by else None


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret, shown in this response only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="An https:// address with a public IP.")
    event_types = serializers.ListField(child=_event_type(), min_length=1)
    description = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    event_types = serializers.ListField(child=_event_type(), min_length=1, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "response_status", "error", "duration_ms"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "message_id",
            "event_type",
            "status",
            "created_at",
            "delivered_at",
            "attempt_count",
            "payload",
            "attempts",
        ]


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict[str, Any]:
    return {**WebhookEndpointSerializer(endpoint).data, "secret": secret}


class WebhookListView(ApiView):
    parser_classes = [JSONParser]
    idempotency_redact = ("secret",)

    @extend_schema(
        responses=page_of(WebhookEndpointSerializer),
        operation_id="webhooks_list",
        summary="Your lab's webhook endpoints",
    )
    def get(self, request: Request) -> Response:
        organization = require_membership(request.user).organization
        ensure(
            may_read_webhooks(request.user, organization),
            f"Only members of {organization.name} see its webhooks.",
        )
        return self.paginate(
            selectors_people.webhook_endpoints(user=request.user), WebhookEndpointSerializer
        )

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Register an HTTPS endpoint (lab admins); its secret is in this response only",
    )
    def post(self, request: Request) -> Response:
        body = valid(WebhookEndpointCreateSerializer, request.data)
        endpoint, secret = service.webhook_endpoint_create(
            organization=require_membership(request.user).organization,
            acting_user=request.user,
            **body,
        )
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)


class WebhookDetailView(ApiView):
    parser_classes = [JSONParser]

    def endpoint(self, pk: str) -> WebhookEndpoint:
        return selectors_people.webhook_endpoint_get(user=self.request.user, pk=pk)

    @extend_schema(responses=WebhookEndpointSerializer, summary="One webhook endpoint")
    def get(self, request: Request, pk: str) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoint(pk)).data)

    @extend_schema(
        request=WebhookEndpointUpdateSerializer,
        responses=WebhookEndpointSerializer,
        summary="Change an endpoint's address, events or description (lab admins)",
    )
    def patch(self, request: Request, pk: str) -> Response:
        body = valid(WebhookEndpointUpdateSerializer, request.data)
        endpoint = service.webhook_endpoint_update(
            endpoint=self.endpoint(pk), acting_user=request.user, **body
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        responses={204: None}, summary="Remove an endpoint (lab admins); its deliveries stay"
    )
    def delete(self, request: Request, pk: str) -> Response:
        service.webhook_endpoint_disable(endpoint=self.endpoint(pk), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateView(ApiView):
    idempotency_redact = ("secret",)

    @extend_schema(
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Rotate the signing secret (lab admins); the previous one keeps signing "
        "beside it for the grace period",
    )
    def post(self, request: Request, pk: str) -> Response:
        endpoint = selectors_people.webhook_endpoint_get(user=request.user, pk=pk)
        endpoint, secret = service.webhook_secret_rotate(
            endpoint=endpoint, acting_user=request.user
        )
        return Response(_with_secret(endpoint, secret))


class WebhookTestView(ApiView):
    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary="Send a `webhook.test` event to the endpoint now (lab admins)",
    )
    def post(self, request: Request, pk: str) -> Response:
        endpoint = selectors_people.webhook_endpoint_get(user=request.user, pk=pk)
        delivery = service.webhook_test_send(endpoint=endpoint, acting_user=request.user)
        delivery = selectors_people.webhook_deliveries(endpoint=endpoint).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(ApiView):
    @extend_schema(
        responses=page_of(WebhookDeliverySerializer),
        operation_id="webhook_deliveries_list",
        summary="An endpoint's deliveries, newest first, each with its attempts",
    )
    def get(self, request: Request, pk: str) -> Response:
        endpoint = selectors_people.webhook_endpoint_get(user=request.user, pk=pk)
        return self.paginate(
            selectors_people.webhook_deliveries(endpoint=endpoint), WebhookDeliverySerializer
        )
