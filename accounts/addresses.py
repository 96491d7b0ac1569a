"""The standard-address list (标准地址 / 门牌地址): import from CSV, all or nothing.

The file has a header row `address,latitude,longitude` (WGS-84 degrees; extra columns are
ignored). Every row is checked first; one bad row imports nothing and every problem is named by
row and field. An address already known gets the new point (a re-import corrects the list).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from accounts.grid_index import locate_grid_id
from accounts.models import StandardAddress

COLUMNS = ("address", "latitude", "longitude")
MAX_ADDRESS = 200


@dataclass
class AddressImport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _number(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def import_addresses(lines: Iterable[str], *, name: str = "file") -> AddressImport:
    """Check every row, then write them all in one transaction (or nothing when a row is wrong)."""
    result = AddressImport()
    reader = csv.DictReader(lines)
    header = [h.strip().lstrip("\ufeff") for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        result.errors.append(f"{name}: row 1: missing column(s) {', '.join(missing)} (need {','.join(COLUMNS)})")
        return result
    reader.fieldnames = header
    rows: dict[str, tuple[float, float, int]] = {}
    for number, row in enumerate(reader, start=2):
        address = (row.get("address") or "").strip()
        lat = _number((row.get("latitude") or "").strip(), -90, 90)
        lon = _number((row.get("longitude") or "").strip(), -180, 180)
        where = f"{name}: row {number}"
        if not address:
            result.errors.append(f"{where}, field address: empty")
        elif len(address) > MAX_ADDRESS:
            result.errors.append(f"{where}, field address: longer than {MAX_ADDRESS} characters")
        elif address in rows:
            result.errors.append(f"{where}, field address: {address!r} appears twice in the file")
        if lat is None:
            result.errors.append(f"{where}, field latitude: not a number between -90 and 90")
        if lon is None:
            result.errors.append(f"{where}, field longitude: not a number between -180 and 180")
        if not address or lat is None or lon is None or address in rows:
            continue
        grid_id = locate_grid_id(lat, lon)
        if grid_id is None:
            result.errors.append(f"{where}, fields latitude/longitude: ({lat}, {lon}) lies outside every grid")
            continue
        rows[address] = (lat, lon, grid_id)
    if result.errors:
        return result
    with transaction.atomic():
        known = StandardAddress.objects.in_bulk(list(rows), field_name="address")
        new, changed = [], []
        for address, (lat, lon, grid_id) in rows.items():
            entry = known.get(address)
            if entry is None:
                new.append(StandardAddress(address=address, latitude=lat, longitude=lon, grid_id=grid_id))
            elif (entry.latitude, entry.longitude, entry.grid_id) != (lat, lon, grid_id):
                entry.latitude, entry.longitude, entry.grid_id = lat, lon, grid_id
                changed.append(entry)
        StandardAddress.objects.bulk_create(new, batch_size=1000)
        StandardAddress.objects.bulk_update(changed, ["latitude", "longitude", "grid"], batch_size=1000)
    result.created, result.updated = len(new), len(changed)
    return result
