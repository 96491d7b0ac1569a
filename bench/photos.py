"""Photo delivery in production: Caddy sending the file (X-Accel-Redirect) vs gunicorn streaming it.

Two production stacks from tests/deploy/stack.py (citygov.settings.prod, fresh PostgreSQL
databases, 2 gunicorn workers each): one behind Caddy with ATTACHMENT_ACCEL_REDIRECT_PREFIX set
(the compose path), one gunicorn alone streaming with FileResponse (the README's no-Docker path
without a proxy mapping). Both fetch the same large photo as a signed-in operator, first one at a
time, then from CONCURRENCY clients at once, and while those downloads run, how long a cheap page
(/healthz) takes: that is what a gunicorn worker held by a transfer costs everyone else.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench .venv/bin/python bench/photos.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.deploy.stack import Http, ProdStack

# The demo's published password (fixtures.demo_city, which needs Django set up; this script does not).
DEMO_PASSWORD = "demo-2026"  # noqa: S105 - public by design, demo users only

BIG_PHOTO = """
import io, json, random
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from tests.factories import file_event
random.seed(7)
image = Image.frombytes("RGB", (3000, 2000), random.randbytes(3000 * 2000 * 3))
buf = io.BytesIO()
image.save(buf, "JPEG", quality=90)
event = file_event(photos=[SimpleUploadedFile("big.jpg", buf.getvalue(), content_type="image/jpeg")])
a = event.attachments.get()
print(json.dumps({"path": f"/events/{event.pk}/photos/{a.pk}", "size": a.size}))
"""


def measure(stack: ProdStack, photo: dict, repeat: int, concurrency: int) -> dict:
    client = Http(stack.port)
    if client.login("op_nanhu", DEMO_PASSWORD).status != 302:
        raise RuntimeError("could not sign in as op_nanhu")

    def fetch(_: int) -> float:
        one = Http(stack.port)
        one.cookies = dict(client.cookies)
        start = time.perf_counter()
        response = one.get(photo["path"])
        if response.status != 200 or len(response.body) != photo["size"]:
            raise RuntimeError(f"photo fetch: HTTP {response.status}, {len(response.body)} bytes")
        return time.perf_counter() - start

    sequential = [fetch(i) for i in range(repeat)]
    probes: list[float] = []
    with ThreadPoolExecutor(concurrency + 1) as pool:
        start = time.perf_counter()
        downloads = [pool.submit(fetch, i) for i in range(repeat * concurrency)]
        while not all(d.done() for d in downloads):
            t = time.perf_counter()
            Http(stack.port).get("/healthz")
            probes.append(time.perf_counter() - t)
        wall = time.perf_counter() - start
        times = [d.result() for d in downloads]
    mb = photo["size"] / 1e6
    return {
        "sequential_ms_median": round(statistics.median(sequential) * 1000, 1),
        "concurrent_MB_per_s": round(mb * len(times) / wall, 1),
        "concurrent_ms_median": round(statistics.median(times) * 1000, 1),
        "healthz_during_ms_median": round(statistics.median(probes) * 1000, 1) if probes else None,
        "healthz_during_ms_max": round(max(probes) * 1000, 1) if probes else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    results = {}
    for name, caddy in (("caddy_accel", True), ("gunicorn_stream", False)):
        root = Path(tempfile.mkdtemp(prefix=f"citygov-bench-{name}-"))
        stack = ProdStack(root, through_caddy=caddy)
        try:
            stack.start()
            photo = json.loads(stack._manage("shell", stdin=BIG_PHOTO).strip().splitlines()[-1])
            results[name] = {
                "photo_MB": round(photo["size"] / 1e6, 2),
                **measure(stack, photo, args.repeat, args.concurrency),
            }
        finally:
            stack.stop()
            shutil.rmtree(root, ignore_errors=True)
    peer = results["gunicorn_stream"]
    for key in ("sequential_ms_median", "concurrent_MB_per_s", "healthz_during_ms_median"):
        if results["caddy_accel"][key] and peer[key]:
            results.setdefault("ratio_caddy_to_gunicorn", {})[key] = round(results["caddy_accel"][key] / peer[key], 2)
    results["load_average"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
