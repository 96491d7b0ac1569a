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

MAX_ROWS = 10_000
FIELDS = ("sensor", "value", "at")


@dataclass(frozen=True)
class Row:
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
    """The well-formed rows and an error per malformed one (messages in English; channels show them)."""
    good: list[Row] = []
    errors: list[RowError] = []
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            errors.append(RowError(number, "__all__", 'each reading is an object {"sensor", "value", "at"}'))
            continue
        sensor = raw.get("sensor")
        if not isinstance(sensor, str) or not sensor.strip():
            errors.append(RowError(number, "sensor", "a sensor code is required"))
            continue
        value = _value(raw.get("value"))
        if value is None:
            errors.append(RowError(number, "value", f"not a finite number: {str(raw.get('value'))[:40]!r}"))
            continue
        at, problem = _at(raw.get("at"))
        if at is None:
            errors.append(RowError(number, "at", problem))
            continue
        good.append(Row(number, sensor.strip(), at, value))
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
