"""Smart dispatch benchmark: training time and suggestion latency at history sizes, beside a keyword matcher.

    createdb -h 127.0.0.1 -U postgres citygov_h18_bench     # emptied and refilled at each size
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_h18_bench \\
      .venv/bin/python bench/dispatch_model.py --sizes 100000,1000000

At each size: reset the database, load the demo city, `generate_history` (with `--keep`, a database that
already holds exactly that many events is reused), `train_dispatch` (timed, wall and CPU), then
`suggest()` in-process (title + description + place → 3 categories, words and the rules' departments) on
the hand-written reports of tests/dispatch/data (in another style than the generator's), p50/p95. The
peer, in the same run: a keyword matcher over the catalogue's names and keywords (what an operator's
search box does), its accuracy and latency on the same reports.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DEBUG", "0")
REPORTS = [ROOT / "tests" / "dispatch" / "data" / n for n in ("handwritten_reports.tsv", "handwritten_reports_2.tsv")]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def keyword_matcher():
    """The peer: the 小类 whose name or keywords appear most in the text (ties: catalogue order)."""
    from incidents.models import Category

    cats = [(c.code, [c.name, *c.keywords.split()]) for c in Category.objects.filter(parent__isnull=False)]

    def match(text: str) -> str | None:
        scored = [(sum(len(w) for w in words if w and w in text), code) for code, words in cats]
        best = max(scored)
        return best[1] if best[0] else None

    return match


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3, help="Passes over the reports for latency")
    parser.add_argument("--keep", action="store_true", help="Reuse a history of exactly the size if present")
    parser.add_argument("--max-events", type=int, default=0, help="Train on the newest N (default the setting's)")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from accounts.models import OrgUnit, Tier
    from bench.run import reset_database
    from dispatch.learning import store
    from dispatch.learning.store import save
    from dispatch.learning.suggest import suggest
    from dispatch.learning.training import train
    from dispatch.routing import history_router
    from incidents.generator import generate
    from incidents.models import Event

    if connection.vendor != "postgresql":
        sys.exit("run it on PostgreSQL (DATABASE_URL)")
    reports = []
    for path in REPORTS:
        with path.open(encoding="utf-8") as handle:
            reports += list(csv.DictReader(handle, delimiter="\t"))
    for size in [int(s) for s in args.sizes.split(",")]:
        if args.keep and Event.objects.count() == size:
            print(f"[{size:>9,} events] kept from an earlier run", flush=True)
        else:
            reset_database()
            gen = generate(size, days=365, router=history_router())
            print(f"[{size:>9,} events] generated in {gen.seconds:.0f} s", flush=True)
        print(f"  load before training: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        started, cpu = time.perf_counter(), time.process_time()
        trained = train(max_events=args.max_events or settings.DISPATCH_TRAIN_MAX_EVENTS)
        training_s, training_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"  load after training: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; phases "
              f"{trained.meta.get('phases')}", flush=True)  # fmt: skip
        path = save(trained)
        store._cache.key = None  # read the new file
        ev = trained.meta["evaluation"]
        print(f"  train_dispatch: {training_s:.0f} s wall, {training_cpu:.0f} s CPU on {trained.meta['events']:,} events; held-out top-1 "
              f"{ev['top1']:.3f} top-3 {ev['top3']:.3f}; conf ≥ 0.8 share {ev['confident_share']:.3f} "
              f"precision {ev['confident_precision']:.3f}; {path.stat().st_size / 1e6:.1f} MB", flush=True)  # fmt: skip
        grids = list(OrgUnit.objects.filter(tier=Tier.GRID).order_by("code"))
        suggest(title="预热", grid=grids[0])  # jieba's dictionary, the model file
        latencies, cpu_ms, peer_latencies, right, right3, peer_right = [], [], [], 0, 0, 0
        match = keyword_matcher()
        for n in range(args.repeat):
            for i, r in enumerate(reports):
                grid = grids[(i + n) % len(grids)]
                t, c = time.perf_counter(), time.process_time()
                found, _model = suggest(title=r["title"], description=r["description"], source=r["source"], grid=grid)
                latencies.append((time.perf_counter() - t) * 1000)
                cpu_ms.append((time.process_time() - c) * 1000)
                t = time.perf_counter()
                guess = match(f"{r['title']} {r['description']}")
                peer_latencies.append((time.perf_counter() - t) * 1000)
                if n == 0:
                    right += bool(found) and found[0].category.code == r["category"]
                    right3 += r["category"] in [f.category.code for f in found]
                    peer_right += guess == r["category"]
        print(f"  suggest (in-process, with the rules' departments): p50 {pct(latencies, 50):.1f} ms, "
              f"p95 {pct(latencies, 95):.1f} ms wall; CPU p50 {pct(cpu_ms, 50):.1f} ms, p95 {pct(cpu_ms, 95):.1f} ms; "
              f"top-1 / top-3 on {len(reports)} hand-written reports {right / len(reports):.3f} / "
              f"{right3 / len(reports):.3f}", flush=True)  # fmt: skip
        print(f"  peer keyword matcher: p50 {pct(peer_latencies, 50):.2f} ms, p95 {pct(peer_latencies, 95):.2f} ms; "
              f"top-1 {peer_right / len(reports):.3f} (model ÷ peer accuracy "
              f"{right / max(peer_right, 1):.2f})", flush=True)  # fmt: skip
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
