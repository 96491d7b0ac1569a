"""Write side effects into the outbox; deliver them after commit.

A message whose handlers fail MAX_ATTEMPTS times in a row becomes a dead
letter (死信): it keeps its last error and attempt count, the drain skips it,
/healthz counts it, and an admin can send it again (`retry_dead_letters`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.inserts import insert_new
from dispatch.models import OutboxMessage

DRAIN_TASK = "dispatch.deliver_outbox"  # the Celery task that runs deliver_pending()

log = logging.getLogger(__name__)

# topic → handlers; each handler must be idempotent for one message (it may run again after a crash).
Handler = Callable[[OutboxMessage], None]
_HANDLERS: dict[str, list[Handler]] = {}
MAX_ATTEMPTS = 8


def handles(*topics: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for topic in topics:
            _HANDLERS.setdefault(topic, []).append(func)
        return func

    return register


def outbox_put(topic: str, *, event=None, payload: dict | None = None) -> OutboxMessage:
    """Record a side effect in the current transaction and wake the worker once it commits."""
    message = OutboxMessage.objects.create(topic=topic, event=event, payload=payload or {})
    kick_on_commit(_kick)
    return message


def outbox_put_many(messages: Sequence[tuple[str, object, dict]]) -> list[OutboxMessage]:
    """Several side effects (topic, event, payload) in one INSERT, in order; one kick after commit."""
    rows = [OutboxMessage(topic=topic, event=event, payload=payload) for topic, event, payload in messages]
    if not rows:
        return []
    created = insert_new(rows)
    kick_on_commit(_kick)
    return created


def kick_on_commit(func) -> None:
    """Run `func` after commit, once per transaction however many messages it wrote.

    (If the savepoint that registered it rolls back while the transaction
    commits other messages, the minute drain delivers them.)
    """
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(registered is func for _ids, registered, _robust in conn.run_on_commit):
        return
    transaction.on_commit(func, robust=True)


class _Coalesce:
    """At most two kicks per OUTBOX_KICK_SECONDS per process: one at once, one at the window's end.

    The drain takes every pending message in batches, so a kick a second wakes the worker as
    often as it can use; a kick per intake queued thousands of tasks when no worker ran. The first
    kick of a window goes at once (a quiet system delivers without delay); the first one refused
    after it is sent with a countdown to the window's end, so a message committed just after a
    drain waits at most a window, not for beat's minute drain (citygov.settings
    CELERY_BEAT_SCHEDULE), which stays the backstop for a broker that was down.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None  # when the last immediate kick went
        self._trailing = False  # a kick with a countdown is queued for the current window
        self._local = threading.local()  # kicks held back by `deferred_kicks` in this thread

    def countdown(self) -> float | None:
        """0 to kick now, seconds to kick later, None not to kick."""
        interval = float(getattr(settings, "OUTBOX_KICK_SECONDS", 1.0))
        now = time.monotonic()
        with self._lock:
            # A clock that went backwards (a test's frozen time, a suspended VM) opens a new window
            # rather than holding every later kick back until it catches up.
            if self._last is None or now < self._last or now - self._last >= interval:
                self._last, self._trailing = now, False
                return 0.0
            if not self._trailing:
                self._trailing = True
                return self._last + interval - now
            return None


_coalesce = _Coalesce()


@contextlib.contextmanager
def deferred_kicks() -> Iterator[None]:
    """Hold back the kicks of everything committed inside, then kick once (bulk dispatch: one
    transaction per event, one round of deliveries for all of them)."""
    local = _coalesce._local
    outer = getattr(local, "held", None)
    local.held = False if outer is None else outer
    try:
        yield
    finally:
        wanted, local.held = local.held, outer
        if wanted and outer is None:
            _send(0.0)


def _kick() -> None:
    held = getattr(_coalesce._local, "held", None)
    if held is not None:
        _coalesce._local.held = True
        return
    countdown = _coalesce.countdown()
    if countdown is not None:
        _send(countdown)


def _send(countdown: float) -> None:
    # By name: operations.tasks registers the task and imports this module, not the other way round.
    options = {"countdown": countdown} if countdown > 0 else {}
    try:
        # ignore_result: a kick wants no result; without it the Redis result backend subscribes
        # to the result channel first, and a request waits for a Redis that is down.
        current_app.send_task(DRAIN_TASK, ignore_result=True, **options)
    except Exception:  # broker down: the periodic drain delivers it later
        log.warning("outbox: broker unreachable, message left for the periodic drain", exc_info=True)


def deliver_pending(limit: int = 500) -> int:
    """Deliver pending messages; returns how many were processed.

    Each message is claimed with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL),
    so two workers draining at once never handle one message twice.
    """
    done = 0
    now = timezone.now()
    while done < limit:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.filter(processed_at__isnull=True, dead_at__isnull=True)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .order_by("id")
                .select_for_update(skip_locked=True)
                .first()
            )
            if message is None:
                return done
            try:
                with transaction.atomic():
                    for handler in _HANDLERS.get(message.topic, []):
                        handler(message)
            except Exception as exc:
                message.attempts += 1
                message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                log.exception("outbox: handling %s failed (attempt %d)", message, message.attempts)
                if message.attempts >= MAX_ATTEMPTS:
                    # Not delivered and not forgotten: a dead letter until an admin retries it.
                    message.dead_at = timezone.now()
                    message.next_attempt_at = None
                    log.error("outbox: %s is a dead letter after %d attempts: %s", message, message.attempts, exc)
                else:
                    message.next_attempt_at = timezone.now() + timedelta(seconds=30 * 2**message.attempts)
            else:
                message.processed_at = timezone.now()
            message.save(update_fields=["attempts", "last_error", "processed_at", "next_attempt_at", "dead_at"])
            done += 1
    return done


def dead_letters():
    """Messages that failed every attempt and wait for an admin."""
    return OutboxMessage.objects.filter(dead_at__isnull=False, processed_at__isnull=True)


def retry_dead_letters(ids) -> int:
    """Send dead letters again: each gets a fresh set of attempts, its last error kept until it succeeds.

    Returns how many were reset. The worker is kicked after commit; the
    minute drain picks them up if the broker is down.
    """
    with transaction.atomic():
        count = dead_letters().filter(pk__in=list(ids)).update(dead_at=None, attempts=0, next_attempt_at=None)
        if count:
            kick_on_commit(_kick)
    return count
