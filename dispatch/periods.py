"""Working periods as plain data: merging, and the overlap checks the model and the admin share.

No model import here: the WorkingPeriod model validates itself with these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from django.utils.translation import gettext as _

Period = tuple[time, time]


def merge_periods(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sorted, with overlapping or touching periods joined: no minute counts twice.

    Saving refuses overlaps; this is the arithmetic's own guard for rows that
    got in some other way (raw SQL, an old database, a hand-built Calendar).
    """
    merged: list[Period] = []
    for start, end in sorted(periods):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def overlap_message(start: time, end: time) -> str:
    """The error shown beside a period's start when it overlaps `start`–`end`."""
    return _("Overlaps the working period %(start)s–%(end)s on the same weekday; join them into one.") % {
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
    }


def overlapping_pairs(periods: Iterable[tuple[int, time, time]]) -> list[tuple[int, int]]:
    """Pairs of positions (i, j), i < j, of (weekday, start, end) items that share working minutes.

    Periods that only touch (12:00–13:00 and 13:00–14:00) do not overlap.
    """
    items = list(periods)
    return [
        (i, j)
        for i, (wd_i, s_i, e_i) in enumerate(items)
        for j, (wd_j, s_j, e_j) in enumerate(items)
        if i < j and wd_i == wd_j and s_i < e_j and s_j < e_i
    ]
