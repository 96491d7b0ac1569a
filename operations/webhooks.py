"""Signed webhooks to department systems, delivered from the outbox with retries and backoff.

Signature: hex HMAC-SHA256 with the department's secret over
"<timestamp>.<body>", sent as `X-Citygov-Signature: sha256=<hex>` with
`X-Citygov-Timestamp` (Unix seconds). Inbound requests from department
systems sign "<timestamp>.<METHOD> <path>\n<body>" (see sign_request and
interfaces.api.department); each signature is accepted once.
`X-Citygov-Delivery` is stable across retries so receivers can drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Department
from dispatch.models import DeliveryStatus, DepartmentEndpoint, OutboxMessage, WebhookDelivery
from operations.outbox import handles, kick_on_commit

DELIVERY_TASK = "dispatch.deliver_webhooks"  # the Celery task that runs deliver_due()

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Citygov-Signature"
TIMESTAMP_HEADER = "X-Citygov-Timestamp"
DELIVERY_HEADER = "X-Citygov-Delivery"
DEPARTMENT_HEADER = "X-Citygov-Department"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signature_valid(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def sign_request(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Inbound requests also bind the method and path, so a signature cannot be replayed on another URL."""
    return sign(secret, timestamp, method.upper().encode() + b" " + path.encode() + b"\n" + body)


def _targets(message: OutboxMessage) -> list:
    """The departments a change concerns."""
    event = message.event
    action = message.payload.get("action")
    if action in ("dispatch", "redispatch", "urge"):
        # As at the change, not at delivery (a later redispatch must not redirect this one).
        codes = [message.payload.get("lead")]
        if action != "urge":
            codes += message.payload.get("co", [])
        departments = [_department_by_code(c) for c in codes]
    elif action in ("return", "reopen"):
        record = event.records.filter(seq=message.payload.get("record")).first()
        key = "department" if action == "return" else "previous_department"
        code = record.data.get(key) if record else None
        departments = [d for d in [_department_by_code(code)] if d]
    else:
        departments = []
    return [d for d in departments if d is not None]


def _department_by_code(code):

    return Department.objects.filter(code=code).first() if code else None


def _body(message: OutboxMessage, department) -> str:
    event = message.event
    lead = message.payload.get("lead")
    payload = {
        "delivery_topic": message.topic,
        "action": message.payload.get("action"),
        "department": department.code,
        "event": {
            "code": event.code,
            "title": event.title,
            "category": event.category.code,
            "urgency": event.urgency,
            "state": message.payload.get("state", event.state),
            "latitude": event.latitude,
            "longitude": event.longitude,
            "address": event.address,
            "lead_department": lead,
            "reported_at": event.reported_at.isoformat(),
        },
        "history_record": message.payload.get("record"),
        "sent_for": message.created_at.isoformat() if message.created_at else None,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


@handles("event.dispatch", "event.redispatch", "event.return", "event.urge", "event.reopen")
def queue_webhooks(message: OutboxMessage) -> None:
    if message.event is None:
        return
    now = timezone.now()
    queued = False
    for department in _targets(message):
        endpoint = DepartmentEndpoint.objects.filter(department=department, is_active=True).exclude(url="").first()
        if endpoint is None:
            continue
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    message=message, endpoint=endpoint, body=_body(message, department), next_attempt_at=now
                )
                queued = True
        except IntegrityError:
            continue  # already queued by an earlier run of this handler
    if queued:
        kick_on_commit(_kick)


def _kick() -> None:
    # By name: operations.tasks registers the task and imports this module, not the other way round.
    try:
        # ignore_result: a kick wants no result; without it the Redis result backend subscribes
        # to the result channel first, and a request waits for a Redis that is down.
        current_app.send_task(DELIVERY_TASK, ignore_result=True)
    except Exception:
        log.warning("webhooks: broker unreachable, deliveries left for the periodic run", exc_info=True)


def _backoff(attempts: int) -> timedelta:
    base = getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - URL is an admin-configured http(s) endpoint
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "citygov-webhooks/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(delivery.endpoint.secret, timestamp, body),
            DELIVERY_HEADER: str(delivery.pk),
            DEPARTMENT_HEADER: delivery.endpoint.department.code,
        },
    )
    timeout = getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, f"{exc.__class__.__name__}: {exc}"


def deliver_due(limit: int = 200) -> int:
    """Send due deliveries; returns how many attempts were made.

    A delivery is claimed (SKIP LOCKED, then a lease on its next attempt time)
    in a short transaction; the HTTP call happens outside any transaction, so a
    slow department system holds no database lock. The first 2xx ends its
    retries. A worker that dies between the call and recording it lets the
    lease expire and the delivery is sent again with the same
    X-Citygov-Delivery id, which receivers use to drop repeats.
    """
    attempts = 0
    max_attempts = getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 10)
    lease = timedelta(seconds=getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10) + 30)
    while attempts < limit:
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
                .select_related("endpoint__department")
                .order_by("next_attempt_at", "id")
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if delivery is None:
                return attempts
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + lease)
        code, error = _post(delivery)
        attempts += 1
        with transaction.atomic():
            delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
            delivery.attempts += 1
            delivery.last_status_code = code
            delivery.last_error = error[:2000]
            if code is not None and 200 <= code < 300:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = timezone.now()
            elif delivery.attempts >= max_attempts:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + _backoff(delivery.attempts)
            delivery.save()
    return attempts
