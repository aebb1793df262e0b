"""OpenAPI additions: the API key scheme, and the error shape on every operation."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from audits.api.serializers import ErrorSerializer

# Every operation may answer these with the one error shape (errors.py).
COMMON_ERRORS = {
    "400": "The request is malformed or a field is invalid.",
    "401": "No valid credentials (API key or session).",
    "403": "Your role may not do this to this object.",
    "404": "No such object, or not one you may see.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "413": "The request is too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests for this key; see Retry-After.",
}
WRITE_ERRORS = {
    "409": "The filing's status does not allow this (or the same Idempotency-Key is in use).",
    "422": "The domain refused the request: intake errors with file/line/field, rules.",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        extra = dict(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            extra.update(WRITE_ERRORS)
        else:
            extra["422"] = WRITE_ERRORS["422"]
        for code, description in extra.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = description
                responses[code] = response
        return responses


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "audits.api.authentication.OrganizationAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>` — an organization API key.",
        }
