#!/usr/bin/env python3
"""Profile one intake through the whole WSGI stack, as gunicorn calls it (issue #20).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/citygov_bench .venv/bin/python bench/profile_intake.py \
        --kind auto --requests 300 [--sort cumulative] [--out var/intake.prof]

The server's settings as bench/intake_load.py starts gunicorn (citygov.settings.dev, DEBUG=0,
persistent connections with health checks, the intake rate limit out of the way); the requests
are the bench's pool for the kind (spread over every grid, several filers). Each request is a
WSGI environ handed to `citygov.wsgi.application`, middleware included, and its body is read to
the end. After a warm-up, cProfile runs on the process's CPU clock (not the wall clock: the
machine is shared), and the CPU per request is printed without the profiler too. Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("DATABASE_CONN_HEALTH_CHECKS", "1")
os.environ.setdefault("INTAKE_RATE_PER_USER_PER_MINUTE", "1000000")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def environ_for(token: str, body: dict) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode()
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/v1/events",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "18765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:18765",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="auto", choices=["auto", "suggest", "mix"])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--out", default="")
    parser.add_argument("--seed", type=int, default=3, help="the request pool's; another seed files elsewhere")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per intake, without cProfile")
    args = parser.parse_args()

    from bench.intake_load import city_requests
    from citygov.wsgi import application

    pool, _routed = city_requests(
        args.kind, n=args.warm + (1 if args.no_profile else 2) * args.requests, seed=args.seed
    )
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def one(token: str, body: dict) -> None:
        result = application(environ_for(token, body), start_response)
        try:
            for _chunk in result:
                pass
        finally:
            result.close()
        if not statuses[-1].startswith("201"):
            raise SystemExit(f"intake answered {statuses[-1]}")

    for token, body in pool[: args.warm]:
        one(token, body)
    plain = pool[args.warm : args.warm + args.requests]
    profiled = pool[args.warm + args.requests :]

    cpu = []
    for token, body in plain:
        t = time.process_time()
        one(token, body)
        cpu.append((time.process_time() - t) * 1000)
    print(f"[profile] {args.kind}: {len(plain)} intakes without the profiler: CPU p50 {statistics.median(cpu):.2f} ms, "
          f"mean {statistics.mean(cpu):.2f} ms (load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    if args.no_profile:
        return

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for token, body in profiled:
        one(token, body)
    profiler.disable()
    if args.out:
        profiler.dump_stats(args.out)
    stats = pstats.Stats(profiler)
    print(
        f"[profile] {args.kind}: {len(profiled)} intakes under cProfile, {stats.total_tt * 1000 / len(profiled):.2f} ms "  # type: ignore[attr-defined]
        "CPU each (profiler overhead included); per-call figures below are totals over all of them"
    )
    stats.sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
