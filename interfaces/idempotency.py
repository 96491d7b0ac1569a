"""Idempotency-Key for POSTs that create or transition.

The same key with the same body replays the first response; the same key
with another body is refused (422). The key commits with the work, so a
duplicate sent while the first runs waits on the key's unique index and then
replays (PostgreSQL; SQLite serialises writers anyway). A key row without a
response (written by an older release, or by hand) answers 409 for five
minutes, then is freed. Keys are scoped to the caller (user, API key or
department system) and last 48 hours: after that the same key is a new
request, whether or not the purge (beat's `purge-idempotency-keys`) has
deleted the row yet.

Only final answers are stored. A 409 (stale version, busy row), a 429 (rate
limit) or a server failure says "try again", so it is not replayed: the key
is freed with the answer and the retry does the work.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.stored_files import discarded_on_rollback
from interfaces.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=48)
STALE = timedelta(minutes=5)
# Answers that ask the client to try again: replaying them would make the retry fail forever.
RETRY_LATER = frozenset({408, 409, 425, 429})


class IdempotencyMismatch(exceptions.APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was used with a different request body."
    default_code = "idempotency_mismatch"


class IdempotencyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_flight"


class Replay(exceptions.APIException):
    """Carries the stored response of a completed request with the same key and body."""

    def __init__(self, record):
        super().__init__()
        self.record = record

    def response(self) -> Response:
        replay = Response(json.loads(self.record.response_body), status=self.record.response_status)
        replay["Idempotent-Replayed"] = "true"
        return replay


def _scope(request) -> str:
    user = request.user
    if getattr(user, "department", None) is not None and not hasattr(user, "pk"):
        return f"dept:{user.department.code}"
    if getattr(request, "auth", None) is not None and getattr(request.auth, "open311_key_id", None):
        return f"open311:{request.auth.open311_key_id}"
    return f"user:{getattr(user, 'pk', 'anon')}"


def fingerprint(request) -> str:
    """SHA-256 over method, path and body (or the parsed form, once a multipart body is consumed)."""
    from django.http.request import RawPostDataException

    try:
        body = request.body
    except RawPostDataException:
        body = json.dumps(sorted((k, request.POST.getlist(k)) for k in request.POST), ensure_ascii=False).encode()
    return hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + body).hexdigest()


def begin(scope: str, key: str, print_: str):
    """Claim a key. Returns the new record, or raises IdempotencyMismatch / IdempotencyInFlight / Replay."""

    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=print_)
        except IntegrityError:
            record = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if record is None:
            continue  # deleted (purged, expired or freed) between our insert and our read
        now = timezone.now()
        if record.created_at <= now - KEEP:
            # Past its 48 hours the key is new again, even before the purge comes by.
            IdempotencyKey.objects.filter(pk=record.pk, created_at__lte=now - KEEP).delete()
            continue
        if record.fingerprint != print_:
            raise IdempotencyMismatch()
        if record.response_status is None:
            if record.created_at > now - STALE:
                raise IdempotencyInFlight()
            # Its process died mid-request: the key is free again.
            IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).delete()
            continue
        raise Replay(record)
    # Three collisions in a row: another request with this key keeps winning; it is in flight.
    raise IdempotencyInFlight()


def is_final(status_code: int) -> bool:
    """A final answer is replayed; 409, 429 and the like, and server failures, are not."""
    return status_code < 500 and status_code not in RETRY_LATER


def finish(record, status_code: int, body: str) -> None:
    """Store a final response with the key; free the key after an answer that says "try again".

    A server failure is neither stored nor freed here: the caller rolls the
    whole transaction back, the key with it.
    """
    if status_code >= 500:
        return
    if not is_final(status_code):
        # The work was refused, not done: the same key must be able to try again.
        type(record).objects.filter(pk=record.pk).delete()
        return
    record.response_status = status_code
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


class IdempotentMixin:
    """For DRF views: honour Idempotency-Key on POST.

    The key, the work and the stored response commit in one transaction. A
    crash (or a database restart) anywhere in the request leaves all three or
    none, so a client retrying with the same key either gets the stored
    response or has the work done now, never twice. A duplicate sent while the
    first is running waits on the key's unique index, then replays.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" or not request.headers.get(HEADER):
            return super().dispatch(request, *args, **kwargs)
        with discarded_on_rollback() as outcome, transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)  # a server failure may be retried with the same key
                outcome["rolled_back"] = True
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        request._idempotency = None
        if request.method != "POST" or not key:
            return
        if len(key) > 200:
            raise exceptions.ValidationError({HEADER: ["At most 200 characters."]})
        request._idempotency = begin(_scope(request), key, fingerprint(request))

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(request, "_idempotency", None)
        if record is not None:
            finish(record, response.status_code, json.dumps(response.data, default=str, ensure_ascii=False))
        return response


def purge_expired() -> int:
    """Delete keys past their 48 hours (beat runs it; see CELERY_BEAT_SCHEDULE). Returns how many."""

    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=timezone.now() - KEEP).delete()
    return deleted
