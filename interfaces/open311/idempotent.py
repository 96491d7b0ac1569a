"""An Open311 POST retried with the same Idempotency-Key files one request and answers the same bytes."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from core.stored_files import discarded_on_rollback
from interfaces import idempotency

from .render import content_type, errors


def once(request: HttpRequest, fmt: str, scope: str, work: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `work` once per client key and Idempotency-Key; a repeat replays the stored answer.

    Without the header the work simply runs. With it, the key, the work and the stored response
    are one transaction (see interfaces.idempotency): a server error rolls all three back (and
    discards the files the work stored), so the client may retry with the same key.
    """
    idem_key = request.headers.get(idempotency.HEADER)
    if not idem_key:
        return work()
    with discarded_on_rollback() as outcome, transaction.atomic():
        try:
            record = idempotency.begin(scope, idem_key[:200], idempotency.fingerprint(request))
        except idempotency.Replay as replay:
            return HttpResponse(
                replay.record.response_body, status=replay.record.response_status, content_type=content_type(fmt)
            )
        except (idempotency.IdempotencyMismatch, idempotency.IdempotencyInFlight) as exc:
            return errors(fmt, exc.status_code, str(exc.detail))
        response = work()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            outcome["rolled_back"] = True
        else:
            idempotency.finish(record, response.status_code, response.content.decode())
    return response
