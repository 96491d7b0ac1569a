"""/healthz: does the database answer, does the broker answer; what needs an operator's attention.

503 only when the database or the broker does not answer. Dead letters in the
outbox (side effects that failed every attempt) do not stop the service: they
are counted and named in `detail`, and `status` says "degraded".
"""

from __future__ import annotations

import time

from celery import current_app as celery_app
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dispatch.calendar_health import calendar_status
from operations.outbox import dead_letters


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "does not answer"
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker() -> dict:
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def count_dead_letters() -> int | None:
    """Outbox messages that failed every attempt; None when the database does not answer."""

    try:
        return dead_letters().count()
    except DatabaseError:
        return None


def check_calendar() -> dict:
    """Do the calendars know the holidays deadlines run into? Reported only: never a reason for 503."""

    try:
        return calendar_status()
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    # Error class names only: connection strings and hosts are not for the public.
    checks = {"database": check_database(), "broker": check_broker()}
    healthy = all(check["ok"] for check in checks.values())
    dead = count_dead_letters() if checks["database"]["ok"] else None
    detail = []
    if dead:
        detail.append(f"{dead} outbox message(s) failed every attempt (dead letters); send them again in the admin.")
    status = "unavailable" if not healthy else "degraded" if detail else "ok"
    body = {"status": status, **checks, "dead_letters": dead, "detail": detail}
    if checks["database"]["ok"]:
        body["calendar"] = check_calendar()
    return JsonResponse(body, status=200 if healthy else 503)
