"""A batch of readings as received (JSON objects or CSV rows), checked row by row.

Each row needs `sensor` (a code), `value` (a finite number) and `at` (ISO 8601 with a timezone).
A bad row is refused alone, with its 1-based position in the batch, the field and why; the others
go on. Whether the sensor exists (for this caller) is the service's question, under its locks.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

MAX_ROWS = 10_000
FIELDS = ("sensor", "value", "at")


class Row(NamedTuple):
    """A well-formed row: a tuple, since a batch makes 10,000 of them and a frozen dataclass builds slower."""

    row: int
    sensor: str
    at: datetime
    value: float


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


def _value(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _at(raw: object) -> tuple[datetime | None, str]:
    if raw is None or raw == "":
        return None, "a reading time is required"
    if not isinstance(raw, str):
        return None, "an ISO 8601 time with a timezone, e.g. 2026-07-01T08:00:00+08:00"
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None, "not an ISO 8601 time, e.g. 2026-07-01T08:00:00+08:00"
    if at.tzinfo is None or at.utcoffset() is None:
        return None, "the time has no timezone (add +08:00 or Z)"
    return at, ""


def check_rows(rows: Sequence[object]) -> tuple[list[Row], list[RowError]]:
    """The well-formed rows and an error per malformed one (messages in English; channels show them).

    One tight loop: a batch's rows share a few reading times, so each distinct `at` text is parsed once.
    """
    good: list[Row] = []
    errors: list[RowError] = []
    times: dict[str, tuple[datetime | None, str]] = {}
    keep = good.append
    isfinite = math.isfinite
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            errors.append(RowError(number, "__all__", 'each reading is an object {"sensor", "value", "at"}'))
            continue
        sensor = raw.get("sensor")
        if not isinstance(sensor, str) or not (code := sensor.strip()):
            errors.append(RowError(number, "sensor", "a sensor code is required"))
            continue
        given = raw.get("value")
        # float is the common case (bool and str go through _value's checks).
        value = given if type(given) is float and isfinite(given) else _value(given)
        if value is None:
            errors.append(RowError(number, "value", f"not a finite number: {str(given)[:40]!r}"))
            continue
        when = raw.get("at")
        if type(when) is str:
            if (parsed := times.get(when)) is None:
                parsed = times[when] = _at(when)
        else:
            parsed = _at(when)
        at, problem = parsed
        if at is None:
            errors.append(RowError(number, "at", problem))
            continue
        keep(Row(number, code, at, value))
    return good, errors


def csv_rows(text: str) -> list[dict[str, str]]:
    """CSV `sensor,value,at` (a header row with those names is optional; any column order with it)."""
    lines: Iterable[list[str]] = csv.reader(io.StringIO(text))
    rows = [line for line in lines if line and any(cell.strip() for cell in line)]
    if rows and {c.strip().lower() for c in rows[0]} >= set(FIELDS):
        header = [c.strip().lower() for c in rows[0]]
        rows = rows[1:]
    else:
        header = list(FIELDS)
    return [dict(zip(header, (cell.strip() for cell in line), strict=False)) for line in rows]
