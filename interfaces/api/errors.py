"""API-wide conventions: JSON errors with a machine-readable code and a human message."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import InvalidInput, ServiceError
from interfaces import outage


def exception_handler(exc, context):
    """{"code": "...", "message": "...", "errors": {field: [...]}} for every error."""
    if outage.is_outage(exc):
        # DRF handles exceptions before any middleware sees them: the outage 503 is made here too.
        return Response(outage.api_body(), status=503, headers={"Retry-After": str(outage.RETRY_AFTER_SECONDS)})
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "message": exc.message}
        if isinstance(exc, InvalidInput):
            body["errors"] = exc.errors
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return Response(
            {
                "code": "invalid",
                "message": "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()),
                "errors": errors,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"__all__": response.data}
        response.data = {"code": "invalid", "message": _flatten(errors), "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": code, "message": str(detail)}
    if response.status_code == 503:
        response.setdefault("Retry-After", str(outage.RETRY_AFTER_SECONDS))
    return response


def _flatten(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in errors.items())
    if isinstance(errors, list):
        return " ".join(_flatten(e) for e in errors)
    return str(errors)
