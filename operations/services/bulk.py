"""Dispatching many events at once from the console (批量派遣)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from accounts.models import Department, User
from core.errors import ServiceError
from operations.outbox import deferred_kicks
from operations.services.lifecycle import event_dispatch


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)  # event ids dispatched
    failed: dict[int, ServiceError] = field(default_factory=dict)  # event id → why not


def events_dispatch(
    *, actor: User, department: Department, versions: Sequence[tuple[int, int]], note: str = ""
) -> BulkResult:
    """Dispatch each (event id, version the operator saw) to `department`.

    One transaction per event (`event_dispatch`, with its checks and row lock): an event that
    changed meanwhile or may not go there is refused on its own, the others still go. The worker is
    woken once after the last (one round of deliveries), not once per event.
    """
    result = BulkResult()
    with deferred_kicks():
        for event_id, version in versions:
            try:
                event_dispatch(
                    actor=actor, event_id=event_id, department=department, expected_version=version, note=note
                )
            except ServiceError as exc:
                result.failed[event_id] = exc
            else:
                result.done.append(event_id)
    return result
