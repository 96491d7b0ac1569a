"""Idempotency-Key for POSTs that create or transition.

The same key with the same body replays the first response; the same key
with another body is refused (422); a duplicate still in flight gets 409.
Keys are scoped to the caller (user, API key or department system) and
kept at least 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=48)


class IdempotencyMismatch(exceptions.APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was used with a different request body."
    default_code = "idempotency_mismatch"


class IdempotencyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_flight"


class Replay(exceptions.APIException):
    """Carries a stored response out of `initial()`; handled by the mixin."""

    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def _scope(request) -> str:
    user = request.user
    if getattr(user, "department", None) is not None and not hasattr(user, "pk"):
        return f"dept:{user.department.code}"
    if getattr(request, "auth", None) is not None and getattr(request.auth, "open311_key_id", None):
        return f"open311:{request.auth.open311_key_id}"
    return f"user:{getattr(user, 'pk', 'anon')}"


def _fingerprint(request) -> str:
    body = request.body if hasattr(request, "body") else b""
    return hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + body).hexdigest()


class IdempotentMixin:
    """For DRF views: honour Idempotency-Key on POST."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        request._idempotency = None
        if request.method != "POST" or not key:
            return
        if len(key) > 200:
            raise exceptions.ValidationError({HEADER: ["At most 200 characters."]})
        from .models import IdempotencyKey

        scope, fingerprint = _scope(request), _fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyKey.objects.get(scope=scope, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyMismatch() from None
            if record.response_status is None:
                raise IdempotencyInFlight() from None
            replay = Response(json.loads(record.response_body), status=record.response_status)
            replay["Idempotent-Replayed"] = "true"
            raise Replay(replay) from None
        request._idempotency = record

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(request, "_idempotency", None)
        if record is not None:
            if response.status_code >= 500:
                record.delete()  # a server failure may be retried with the same key
            else:
                record.response_status = response.status_code
                record.response_body = json.dumps(response.data, default=str, ensure_ascii=False)
                record.save(update_fields=["response_status", "response_body"])
        return response


def purge_expired() -> int:
    from .models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
