"""Per-process copies of slow-changing tables, kept fresh through the shared cache.

Intake reads the grid polygons, the working calendars, the routing rules and
the SLA policies on every request; they change a few times a year. Each process
builds its copy once and compares a generation counter in the shared cache
(Redis in production) on each use; saving a row bumps the counter, so every
process rebuilds on its next read.

When the shared cache is unreachable the counter reads as None: the process
keeps its copy, and rebuilds anyway once the copy is `max_age` seconds old, so
a change made during a Redis outage is picked up within that bound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
_ALL: list[ProcessCache] = []


class ProcessCache(Generic[T]):
    def __init__(self, name: str, build: Callable[[], T], max_age: float = 300.0) -> None:
        self.key = f"citygov:generation:{name}"
        self.build = build
        self.max_age = max_age
        self._lock = threading.Lock()
        self._value: T | None = None
        self._generation: int | None = None
        self._built_at = 0.0
        _ALL.append(self)

    def _shared_generation(self) -> int | None:
        return cache.get_or_set(self.key, 1, timeout=None)

    def get(self) -> T:
        generation = self._shared_generation()
        if not self._stale(generation):
            return self._value  # type: ignore[return-value]
        with self._lock:
            if self._stale(generation):
                self._value = self.build()
                self._generation = generation
                self._built_at = time.monotonic()
            return self._value  # type: ignore[return-value]

    def _stale(self, generation: int | None) -> bool:
        if self._value is None or time.monotonic() - self._built_at > self.max_age:
            return True
        return generation is not None and generation != self._generation

    def invalidate(self) -> None:
        """Drop this process's copy now and tell the others, again once the change commits.

        Bumping only now would let another process rebuild from the old rows
        before the change commits; bumping only at commit would leave this
        process reading its old copy inside the transaction that changed it.
        """
        self.clear_local()
        self._bump()
        transaction.on_commit(self._bump)

    def clear_local(self) -> None:
        with self._lock:
            self._value = None
            self._generation = None

    def _bump(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # key missing (expired, or Redis restarted empty): any new value differs
            cache.set(self.key, int(time.time()), timeout=None)


def clear_all_local() -> None:
    """Forget every process copy (tests roll the database back under them)."""
    for process_cache in _ALL:
        process_cache.clear_local()
