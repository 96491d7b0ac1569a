"""The API's own documentation pages, Swagger UI and ReDoc, under the product's CSP.

drf-spectacular's views (Swagger UI unchanged) with the templates overridden in templates/drf_spectacular/
(inline code carries the request's nonce). ReDoc's search runs in a web worker made
from a blob: URL; only its page allows that (`worker-src blob:`), every other page
keeps the strict policy of settings.CSP_STRICT_POLICY.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework.response import Response


class RedocView(SpectacularRedocView):
    """ReDoc: nonce on its inline code, and a blob: worker for its search."""

    @extend_schema(exclude=True)
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response.csp_extra = {"worker-src": "blob:"}  # read by ContentSecurityPolicyMiddleware
        return response
