#!/usr/bin/env python3
"""Write the three files of a synthetic city with N grids, for `import_city` at scale (bench/city_import.py).

    .venv/bin/python bench/city_generator.py --grids 100000 --out /tmp/city100k

Layout: 1 city (770100) → 10 districts → 10 streets each → communities of 50
grids each, as many as N needs (N = 100,000: 2,000 communities). Every grid is
a rectangle whose sides carry extra vertices (VERTICES_PER_SIDE, shared with
the neighbour), so the polygon checks see realistic vertex counts; grids tile
their community exactly. Departments: 8 per district, 4 per street; people: an
operator per street, a grid worker and an operator per community, a handler per
department. Pure Python (no Django), deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

CITY = "770100"
WEST, SOUTH, EAST, NORTH = 110.0, 30.0, 111.0, 31.0
DISTRICTS, STREETS = 10, 10
GRIDS_PER_COMMUNITY = (10, 5)  # columns × rows = 50
VERTICES_PER_SIDE = 4
DISTRICT_TYPES = ["chengguan", "huanwei", "shuiwu", "yuanlin", "shizheng", "zhujian", "gongan", "yingji"]
STREET_TYPES = ["chengguan", "huanwei", "gongan", "zhujian"]


def split(lo: float, hi: float, parts: int) -> list[float]:
    return [round(lo + (hi - lo) * i / parts, 7) for i in range(parts + 1)]


def rectangle(w: float, s: float, e: float, n: float, k: int = 1) -> dict:
    """Counter-clockwise; each side cut into k pieces (the same points as the neighbour's side)."""
    xs, ys = split(w, e, k), split(s, n, k)
    ring = (
        [[x, s] for x in xs[:-1]]
        + [[e, y] for y in ys[:-1]]
        + [[x, n] for x in xs[:0:-1]]
        + [[w, y] for y in ys[:0:-1]]
    )
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, name: str, parent: str | None, geometry: dict | None) -> dict:
    props = {"code": code, "name": name}
    if parent:
        props["parent"] = parent
    return {"type": "Feature", "properties": props, "geometry": geometry}


def generate(grids: int, out: Path) -> dict[str, int]:
    per_community = GRIDS_PER_COMMUNITY[0] * GRIDS_PER_COMMUNITY[1]
    communities_needed = -(-grids // per_community)
    streets_total = DISTRICTS * STREETS
    per_street = -(-communities_needed // streets_total)
    cols = max(1, round(per_street**0.5))
    rows_ = -(-per_street // cols)
    features = [feature(CITY, "基准市", None, rectangle(WEST, SOUTH, EAST, NORTH))]
    departments: list[list[str]] = []
    people: list[list[str]] = []
    made = 0
    d_edges = split(WEST, EAST, DISTRICTS)
    for d in range(DISTRICTS):
        d_code = f"7701{d + 2:02d}"
        dw, de = d_edges[d], d_edges[d + 1]
        features.append(feature(d_code, f"第{d + 1}区", CITY, rectangle(dw, SOUTH, de, NORTH)))
        departments += [[f"{d_code}-{t}", f"第{d + 1}区{t}", t, d_code] for t in DISTRICT_TYPES]
        s_edges = split(SOUTH, NORTH, STREETS)
        for s in range(STREETS):
            s_code = f"{d_code}{s + 1:03d}"
            ss, sn = s_edges[s], s_edges[s + 1]
            features.append(feature(s_code, f"第{d + 1}区第{s + 1}街道", d_code, rectangle(dw, ss, de, sn)))
            departments += [[f"{s_code}-{t}", f"第{d + 1}区第{s + 1}街道{t}", t, s_code] for t in STREET_TYPES]
            people.append([f"op_{s_code}", f"{s_code}操作员", "", "operator", s_code, ""])
            cx_edges, cy_edges = split(dw, de, cols), split(ss, sn, rows_)
            for c in range(per_street):
                if made >= grids:
                    break
                c_code = f"{s_code}{c + 1:03d}"
                cw, ce = cx_edges[c % cols], cx_edges[c % cols + 1]
                cs, cn = cy_edges[c // cols], cy_edges[c // cols + 1]
                features.append(feature(c_code, f"{c_code}社区", s_code, rectangle(cw, cs, ce, cn)))
                people.append([f"op_{c_code}", f"{c_code}社区操作员", "", "operator", c_code, ""])
                people.append([f"gw_{c_code}", f"{c_code}社区网格员", "", "grid_worker", c_code, ""])
                gx, gy = split(cw, ce, GRIDS_PER_COMMUNITY[0]), split(cs, cn, GRIDS_PER_COMMUNITY[1])
                for g in range(per_community):
                    if made >= grids:
                        break
                    i, j = g % GRIDS_PER_COMMUNITY[0], g // GRIDS_PER_COMMUNITY[0]
                    geometry = rectangle(gx[i], gy[j], gx[i + 1], gy[j + 1], VERTICES_PER_SIDE)
                    features.append(feature(f"{c_code}{g + 1:02d}", f"{c_code}第{g + 1}网格", c_code, geometry))
                    made += 1
    people += [[f"hd_{code}", f"{name}处置员", "", "handler", "", code] for code, name, _t, _u in departments]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "UNITS.geojson").open("w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False, separators=(",", ":"))
    for name, header, rows in (
        ("DEPARTMENTS.csv", ["code", "name", "type", "unit"], departments),
        ("PEOPLE.csv", ["username", "full_name", "phone", "role", "unit", "department"], people),
    ):
        with (out / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    return {"units": len(features), "grids": made, "departments": len(departments), "people": len(people)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.grids, args.out))


if __name__ == "__main__":
    main()
