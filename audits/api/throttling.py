"""Rate limits: per API key (or signed-in person), and per address for anonymous calls."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from audits.models import OrganizationAPIKey


class PrincipalRateThrottle(SimpleRateThrottle):
    """One bucket per key, per signed-in user, or per client address.

    Counts live in Django's default cache: configure a shared one (Redis) when gunicorn
    runs several workers, or each worker counts on its own.
    """

    def get_rate(self) -> str | None:
        return self.THROTTLE_RATES["principal"]

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = "principal" if request.user.is_authenticated else "anonymous"
        self.rate = self.THROTTLE_RATES[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, OrganizationAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return f"throttle:api:{ident}"
