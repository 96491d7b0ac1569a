#!/usr/bin/env python3
"""`import_city` at scale: a synthetic city (bench/city_generator.py) imported into an empty database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench .venv/bin/python bench/city_import.py --grids 10000,100000

For each size: the database is emptied (DROP SCHEMA public, then migrate; a
flush cannot, the history table refuses TRUNCATE), the files are generated, then three timed runs of `manage.py import_city` in a subprocess
(as an operator runs it): --dry-run (parse + validate only), the first import,
and the same files again (updates, nothing created). The smallest size is the
peer: the larger sizes print their time as a ratio to it, so "linear" reads as
ratio ≈ size ratio. Prints figures and the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def manage(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default="10000,100000", help="comma-separated sizes; the first is the peer")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to an empty PostgreSQL database made for this benchmark (it is emptied).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT / "bench"))
    from city_generator import generate

    peer: dict[str, float] = {}
    print(f"{'grids':>8} {'units':>8} {'people':>7} {'dry-run s':>10} {'import s':>9} {'again s':>8}  ratio to peer")
    for size in [int(s) for s in args.grids.split(",")]:
        empty = "from django.db import connection; connection.cursor().execute('DROP SCHEMA public CASCADE; CREATE SCHEMA public;')"
        manage("shell", "-c", empty)
        manage("migrate", "-v0")
        with tempfile.TemporaryDirectory() as tmp:
            counts = generate(size, Path(tmp))
            files = [
                f"--units={tmp}/UNITS.geojson",
                f"--departments={tmp}/DEPARTMENTS.csv",
                f"--people={tmp}/PEOPLE.csv",
            ]
            times = {
                "dry": manage("import_city", *files, "--dry-run", "--no-progress"),
                "import": manage("import_city", *files, "--no-progress"),
                "again": manage("import_city", *files, "--no-progress"),
            }
        peer = peer or times
        ratios = " / ".join(f"{times[k] / peer[k]:.1f}x" for k in ("dry", "import", "again"))
        print(
            f"{counts['grids']:>8} {counts['units']:>8} {counts['people']:>7} {times['dry']:>10.1f} "
            f"{times['import']:>9.1f} {times['again']:>8.1f}  {ratios}",
            flush=True,
        )
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
