"""The four warning levels of the Emergency Response Law, least severe first, and the two directions.

Plain data (no Django): the pure evaluator (vitals.rules) and the tables share it.
蓝 IV · 黄 III · 橙 II · 红 I (the highest).
"""

from __future__ import annotations

BLUE, YELLOW, ORANGE, RED = "blue", "yellow", "orange", "red"
LEVELS: tuple[str, ...] = (BLUE, YELLOW, ORANGE, RED)
SEVERITY: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

ABOVE, BELOW = "above", "below"
DIRECTIONS: tuple[str, ...] = (ABOVE, BELOW)

# Warning states and kinds, as stored and as the API spells them.
PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"
THRESHOLD, NODATA = "threshold", "nodata"


def at_least(level: str, floor: str) -> bool:
    """True when `level` is as severe as `floor` or more."""
    return SEVERITY[level] >= SEVERITY[floor]
