"""Signed webhooks to department systems, delivered from the outbox with retries and backoff.

Signature: hex HMAC-SHA256 with the department's secret over
"<timestamp>.<body>", sent as `X-Citygov-Signature: sha256=<hex>` with
`X-Citygov-Timestamp` (Unix seconds). Inbound requests from department
systems are signed the same way (see dispatch.department_api).
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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import DeliveryStatus, DepartmentEndpoint, OutboxMessage, WebhookDelivery
from .outbox import handles

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


def _targets(message: OutboxMessage) -> list:
    """The departments a change concerns."""
    event = message.event
    action = message.payload.get("action")
    if action in ("dispatch", "redispatch", "urge"):
        departments = [event.lead_department]
        if action != "urge":
            departments += list(event.co_departments.all())
    elif action in ("return", "reopen"):
        record = event.records.filter(seq=message.payload.get("record")).first()
        key = "department" if action == "return" else "previous_department"
        code = record.data.get(key) if record else None
        departments = [d for d in [_department_by_code(code)] if d]
    else:
        departments = []
    return [d for d in departments if d is not None]


def _department_by_code(code):
    from accounts.models import Department

    return Department.objects.filter(code=code).first() if code else None


def _body(message: OutboxMessage, department) -> str:
    event = message.event
    payload = {
        "delivery_topic": message.topic,
        "action": message.payload.get("action"),
        "department": department.code,
        "event": {
            "code": event.code,
            "title": event.title,
            "category": event.category.code,
            "urgency": event.urgency,
            "state": event.state,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "address": event.address,
            "lead_department": event.lead_department.code if event.lead_department else None,
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
        transaction.on_commit(_kick, robust=True)


def _kick() -> None:
    from .tasks import deliver_webhooks

    try:
        deliver_webhooks.delay()
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

    Each delivery row is locked (SKIP LOCKED) for its attempt, so two workers
    never send the same one at once; the first 2xx ends its retries.
    """
    attempts = 0
    max_attempts = getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 10)
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
            code, error = _post(delivery)
            attempts += 1
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
