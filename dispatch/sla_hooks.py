"""What the lifecycle asks of the SLA engine. Deadlines themselves arrive with the SLA module."""

from __future__ import annotations

from datetime import datetime


def ensure_before_deadline(event) -> None:
    """Extensions are asked for before the handling deadline passes (checked once deadlines exist)."""


def apply_extension(event, *, hours: int, at: datetime) -> dict:
    """Record the granted hours; the data returned goes into the history record."""
    return {"granted_hours": hours}
