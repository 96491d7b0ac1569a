"""Per-process copies of slow-changing tables, kept fresh through the shared cache.

Intake reads the grid polygons, the working calendars, the routing rules, the
departments and the SLA policies on every request; they change a few times a
year. Each process builds its copy once and compares a generation counter in
the shared cache (Redis in production) at most once a second
(PROCESS_CACHE_CHECK_SECONDS); saving a row bumps the counter, so every other
process rebuilds within that second, and the saving process at once.

When the counter cannot be read (Redis down, or restarted empty) the process
keeps its copy, and rebuilds anyway once the copy is `max_age` seconds old, so
a change made during a Redis outage is picked up within that bound. Reading at
most once a second also bounds what an unreachable Redis costs a request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
_ALL: list[ProcessCache] = []


@dataclass(frozen=True)
class _Copy(Generic[T]):
    value: T
    generation: int | None
    built_at: float


class ProcessCache(Generic[T]):
    def __init__(self, name: str, build: Callable[[], T], max_age: float = 300.0) -> None:
        self.key = f"citygov:generation:{name}"
        self.build = build
        self.max_age = max_age
        self._lock = threading.Lock()
        self._copy: _Copy[T] | None = None  # replaced whole, never mutated: readers need no lock
        self._checked_at = 0.0
        self._shared: int | None = None
        # The outermost atomic block in which invalidate() ran: until that transaction ends, a
        # copy built may hold uncommitted rows, so it is used but not kept. Cleared when it
        # commits or, at the next read, once that block is no longer the one open (rolled back).
        self._changed_in: object | None = None
        _ALL.append(self)

    def _shared_generation(self) -> int | None:
        now = time.monotonic()
        interval = getattr(settings, "PROCESS_CACHE_CHECK_SECONDS", 1.0)
        if now - self._checked_at >= interval:
            self._shared = cache.get(self.key)  # None: never bumped, or Redis unreachable
            self._checked_at = now
        return self._shared

    def get(self) -> T:
        generation = self._shared_generation()
        current = self._copy
        if current is not None and not self._stale(current, generation):
            return current.value
        if self._changed_in is not None and self._inside_changing_transaction():
            return self.build()
        with self._lock:
            current = self._copy
            if current is None or self._stale(current, generation):
                current = _Copy(self.build(), generation, time.monotonic())
                self._copy = current
        return current.value

    def _inside_changing_transaction(self) -> bool:
        connection = transaction.get_connection()
        if connection.in_atomic_block and connection.atomic_blocks[0] is self._changed_in:
            return True
        # That transaction ended (committed or rolled back): later transactions may keep copies.
        # Before this, a flag stayed set until a read outside any transaction, so a process whose
        # reads all ran inside atomic blocks (intake) rebuilt every copy on every read.
        self._changed_in = None
        return False

    def _stale(self, copy: _Copy[T], generation: int | None) -> bool:
        if time.monotonic() - copy.built_at > self.max_age:
            return True
        return generation is not None and generation != copy.generation

    def invalidate(self) -> None:
        """Drop this process's copy now and tell the others, again once the change commits.

        Bumping only now would let another process rebuild from the old rows
        before the change commits; bumping only at commit would leave this
        process reading its old copy inside the transaction that changed it.
        """
        self.clear_local()
        connection = transaction.get_connection()
        if connection.in_atomic_block:
            self._changed_in = connection.atomic_blocks[0]
        self._bump()
        transaction.on_commit(self._committed)

    def _committed(self) -> None:
        self._changed_in = None
        self._bump()

    def clear_local(self) -> None:
        with self._lock:
            self._copy = None
            self._checked_at = 0.0

    def _bump(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # key missing (never bumped, expired, or Redis restarted empty)
            cache.set(self.key, time.time_ns(), timeout=None)
        self._checked_at = 0.0


def clear_all_local() -> None:
    """Forget every process copy (tests roll the database back under them)."""
    for process_cache in _ALL:
        process_cache.clear_local()
        process_cache._changed_in = None
