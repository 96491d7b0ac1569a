"""HTTP intake under load, beside two peers in the same run (bench/run.py --http SECONDS).

Three servers on 127.0.0.1, each gunicorn with the same workers, the same PostgreSQL, the same
persistent connections (CONN_MAX_AGE 60, health-checked at each request's first query), the same
driver options (citygov's: parameters bound on the server, statements prepared after 5 uses) and
token authentication:

- citygov `POST /api/v1/events`, loaded as a city loads it: one report per request from a pool
  spread over every grid (a random point inside the grid's polygon), filed by the grid workers
  and operators who may report there, in three mixes: `auto` (E0101, auto-dispatched: a second
  state change, record and clock), `suggest` (E0601, a suggestion with a co-handler) and `mix`
  (the generator's category mix over every subclass, whatever the rules do with each);
- django-helpdesk 2.6.1's own create path, `POST /api/tickets/` (bench/peer/helpdesk, in its own
  virtualenv under var/, from its own pinned requirements);
- the plain Django + DRF tracker (bench/peer: one model, one create endpoint).

Each is warmed up, then measured in alternating rounds (the order rotates each round, so no one
always runs first or right after another's writes). wrk runs with --latency and a 10 s timeout;
timeouts, socket errors and non-2xx answers are counted and printed, and a p99 is only claimed
when fewer than 1 % of the requests timed out.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "bench" / "peer"
HELPDESK = PEER / "helpdesk"
TIMEOUT_S = 10
CONNECTIONS = 16
CONN_MAX_AGE = "60"
CONN_HEALTH_CHECKS = "1"  # each request checks its kept connection first (one SELECT 1), as in production

LUA = """
wrk.method = "POST"
local reqs = %(requests)s
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 997)  -- each thread starts elsewhere in the pool
end
local i = 0
init = function(args)
  i = (offset or 0) %% #reqs
end
request = function()
  i = i %% #reqs + 1
  local r = reqs[i]
  return wrk.format(nil, "%(path)s", {["Authorization"] = "Token " .. r[1], ["Content-Type"] = "application/json"}, r[2])
end
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def write_lua(path: Path, url_path: str, requests: list[tuple[str, dict]]) -> None:
    table = (
        "{"
        + ",\n".join(f"{{{_lua_string(t)}, {_lua_string(json.dumps(b, ensure_ascii=False))}}}" for t, b in requests)
        + "}"
    )
    path.write_text(LUA % {"requests": table, "path": url_path})


@dataclass
class Run:
    requests: int = 0
    seconds: float = 0.0
    non2xx: int = 0
    timeouts: int = 0
    socket_errors: int = 0
    latency: dict[str, float] = field(default_factory=dict)  # "50%" → ms
    cpu_ms: float = 0.0  # the application's CPU (gunicorn workers, user + system) per request
    db_cpu_ms: float = 0.0  # PostgreSQL's CPU (every postgres process, user + system) per request
    wrk_cpu_ms: float = 0.0  # the load generator's own CPU per request: it shares the 2 cores
    steal_pct: float = 0.0  # CPU time the hypervisor gave to other machines during the round
    raw: str = ""

    @property
    def ok_per_s(self) -> float:
        return (self.requests - self.non2xx) / self.seconds if self.seconds else 0.0

    @property
    def p99(self) -> float | None:
        """wrk leaves timed-out requests out of its percentiles: past 1 % of them, no p99 holds."""
        if self.timeouts > 0.01 * max(self.requests + self.timeouts, 1):
            return None
        return self.latency.get("99%")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> Run:
    run = Run(raw=out)
    for line in out.splitlines():
        parts = line.split()
        if m := re.match(r"\s*(\d+) requests in ([\d.]+)(ms|s|m)", line):
            run.requests = int(m.group(1))
            run.seconds = _ms(m.group(2) + m.group(3)) / 1000
        elif len(parts) == 2 and parts[0] in ("50%", "75%", "90%", "99%"):
            run.latency[parts[0]] = _ms(parts[1])
        elif line.strip().startswith("Socket errors:"):
            counts = dict(re.findall(r"(connect|read|write|timeout) (\d+)", line))
            run.timeouts = int(counts.get("timeout", 0))
            run.socket_errors = sum(int(counts.get(k, 0)) for k in ("connect", "read", "write"))
        elif "Non-2xx" in line:
            run.non2xx = int(parts[-1])
    return run


def _ticks(pids: list[str]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # it ended between the listing and the read
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total


def _cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of a gunicorn master's workers so far: robust to what else the machine runs."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return _ticks(children) / os.sysconf("SC_CLK_TCK")


def _db_cpu_seconds() -> float:
    """User + system CPU of PostgreSQL so far: every postgres process, and, on the postmaster, the
    CPU of its children that have ended (a backend whose connection a server recycled after
    CONN_MAX_AGE, an autovacuum worker), which the kernel adds to the parent when it reaps them.
    During a round only the server under test talks to the database."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):  # it ended between the listing and the read
            continue
        if not text.split(" (", 1)[1].startswith("postgres)"):
            continue
        fields = text.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
        parent = Path(f"/proc/{fields[1]}/comm")
        if not (parent.exists() and parent.read_text().strip() == "postgres"):  # the postmaster
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: its ended children's
    return total / os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[int, int]:
    """(steal, all) jiffies of the machine so far, from /proc/stat's first line."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return fields[7], sum(fields)


def _children_cpu_seconds() -> float:
    """CPU of this process's children that have ended and been waited for: each wrk run (the
    gunicorn servers are waited for only at the end)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, lua: Path, seconds: int, server: subprocess.Popen | None = None) -> Run:
    before = _cpu_seconds(server) if server is not None else 0.0
    db_before = _db_cpu_seconds()
    wrk_before = _children_cpu_seconds()
    steal_before, all_before = _cpu_times()
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", f"{TIMEOUT_S}s", "--latency",
         "-s", str(lua), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    run = parse_wrk(out)
    if server is not None and run.requests:
        run.cpu_ms = (_cpu_seconds(server) - before) * 1000 / run.requests
        run.db_cpu_ms = (_db_cpu_seconds() - db_before) * 1000 / run.requests
        run.wrk_cpu_ms = (_children_cpu_seconds() - wrk_before) * 1000 / run.requests
        steal, all_ = _cpu_times()
        run.steal_pct = 100 * (steal - steal_before) / max(all_ - all_before, 1)
    return run


def gunicorn(python: str, app: str, port: int, env: dict, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [python, "-m", "gunicorn", app, "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(100):  # up when the port answers
        if subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode == 0:
            return server
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn {app} did not come up on port {port}")


def helpdesk_python() -> str:
    """django-helpdesk's own virtualenv under var/, (re)built when its requirements change."""
    venv = ROOT / "var" / "bench-helpdesk-venv"
    wanted = hashlib.sha256((HELPDESK / "requirements.txt").read_bytes()).hexdigest()
    stamp = venv / "requirements.sha256"
    python = venv / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(HELPDESK / "requirements.txt")], check=True
        )
        stamp.write_text(wanted)
    return str(python)


# --- what the city sends


def city_requests(kind: str, n: int = 3000, seed: int = 1) -> tuple[list[tuple[str, dict]], dict[str, int]]:
    """`n` reports spread over every grid, each by someone who may report there, and what routing
    decides for them ({"auto": …, "suggest": …, "none": …}: the mix as the rules see it)."""
    from rest_framework.authtoken.models import Token

    from accounts.geometry import PointPicker
    from accounts.grid_index import locate_grid
    from accounts.models import Membership, OrgUnit, Role, Tier
    from accounts.selectors import has_unit_permission
    from dispatch.models import RoutingMode
    from dispatch.routing import simulate
    from incidents.generator import HEAVY
    from incidents.models import Category

    rng = random.Random(seed)  # a load pattern, not secrets
    grids = list(OrgUnit.objects.filter(tier=Tier.GRID, is_active=True).order_by("code"))
    people = {
        m.user for m in Membership.objects.filter(role__in=[Role.GRID_WORKER, Role.OPERATOR]).select_related("user")
    }
    filers = {g.pk: [u for u in people if has_unit_permission(u, "report_event", g)] for g in grids}
    grids = [g for g in grids if filers[g.pk]]
    tokens = {u.pk: Token.objects.get_or_create(user=u)[0].key for us in filers.values() for u in us}
    pickers = {g.pk: PointPicker(g.boundary) for g in grids}
    if kind == "auto":
        cats, weights = [Category.objects.get(code="E0101")], [1]
    elif kind == "suggest":
        cats, weights = [Category.objects.get(code="E0601")], [1]
    else:
        cats = list(Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"))
        weights = [HEAVY.get(c.code, 1) for c in cats]
    requests, routed = [], {"auto": 0, "suggest": 0, "none": 0}
    for i in range(n):
        grid = grids[i % len(grids)] if i < len(grids) else rng.choice(grids)
        # Rounded as a client sends it; a point the rounding moves over the grid's edge is drawn
        # again (its filer may not report in the neighbour's grid: a 403 that is the bench's fault).
        while True:
            lat, lon = (round(v, 6) for v in pickers[grid.pk].pick(rng))
            if locate_grid(lat, lon) == grid:
                break
        filer = rng.choice(filers[grid.pk])
        category = rng.choices(cats, weights)[0]
        winner = simulate(category=category, latitude=lat, longitude=lon, text="bench").winner
        routed["none" if winner is None else "auto" if winner.rule.mode == RoutingMode.AUTO else "suggest"] += 1
        body = {"title": f"bench {category.name}", "category": category.code, "latitude": lat, "longitude": lon}
        requests.append((tokens[filer.pk], body))
    return requests, routed


PEER_SETUP = """
import django
django.setup()
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
print(" ".join(Token.objects.create(user=User.objects.create_user(f"bench{i}")).key for i in range(8)))
"""


def _database(env: dict, name: str, admin: list[str]) -> str:
    subprocess.run([*admin, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run([*admin, "-c", f"CREATE DATABASE {name}"], check=True)
    return name


def bench_http(
    seconds: int, workers_list: list[int], threads: int, rounds: int, port: int, same_driver: bool = True
) -> dict:
    from django.conf import settings

    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        print("[http] wrk not installed (apt-get install wrk): skipped")
        return {}
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    db = settings.DATABASES["default"]
    base_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    admin = ["psql", "-q", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], "-d", db["NAME"]]
    # The peers talk to PostgreSQL as citygov does (citygov.settings.env, DATABASE_PREPARED_STATEMENTS),
    # unless asked to run on Django's defaults (bench/run.py --peer-driver django).
    prepared = "1" if same_driver and db.get("OPTIONS", {}).get("server_side_binding") else "0"
    print(f"[http] the peers' driver: {'citygov' if prepared == '1' else 'Django'}'s options "
          f"(server-side binding and prepared statements {'on' if prepared == '1' else 'off'})")  # fmt: skip

    # citygov: three request pools over the whole city.
    luas: dict[str, Path] = {}
    for kind in ("auto", "suggest", "mix"):
        requests, routed = city_requests(kind)
        luas[f"citygov {kind}"] = var / f"intake-{kind}.lua"
        write_lua(luas[f"citygov {kind}"], "/api/v1/events", requests)
        filers = len({t for t, _b in requests})
        print(f"[http] citygov {kind}: {len(requests)} reports over the city by {filers} filers, routed {routed}")

    # The plain tracker: the same bodies, eight users.
    peer_db = _database(os.environ, f"{db['NAME']}_peer", admin)
    peer_env = dict(os.environ, PYTHONPATH=str(PEER), DJANGO_SETTINGS_MODULE="settings",
                    PEER_DATABASE_URL=f"{base_url}/{peer_db}", PEER_CONN_MAX_AGE=CONN_MAX_AGE,
                    PEER_CONN_HEALTH_CHECKS=CONN_HEALTH_CHECKS, PEER_PREPARED_STATEMENTS=prepared)  # fmt: skip
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], env=peer_env, check=True)
    peer_tokens = subprocess.run(
        [sys.executable, "-c", PEER_SETUP], env=peer_env, check=True, capture_output=True, text=True
    ).stdout.split()
    mix, _routed = city_requests("mix", n=1000, seed=2)
    luas["plain DRF tracker"] = var / "peer.lua"
    write_lua(luas["plain DRF tracker"], "/tickets", [(peer_tokens[i % 8], b) for i, (_t, b) in enumerate(mix)])

    # django-helpdesk, its own venv and database.
    hd_python = helpdesk_python()
    hd_db = _database(os.environ, f"{db['NAME']}_helpdesk", admin)
    hd_env = dict(os.environ, PYTHONPATH=str(HELPDESK), DJANGO_SETTINGS_MODULE="settings",
                  PEER_DATABASE_URL=f"{base_url}/{hd_db}", PEER_CONN_MAX_AGE=CONN_MAX_AGE,
                  PEER_CONN_HEALTH_CHECKS=CONN_HEALTH_CHECKS, PEER_PREPARED_STATEMENTS=prepared)  # fmt: skip
    subprocess.run([hd_python, "-m", "django", "migrate", "-v0"], env=hd_env, check=True)
    queue, *hd_tokens = subprocess.run(
        [hd_python, str(HELPDESK / "setup_peer.py")], env=hd_env, check=True, capture_output=True, text=True
    ).stdout.split()
    hd_bodies = [
        {"queue": int(queue), "title": b["title"], "description": f"{b['category']} at {b['latitude']},{b['longitude']}",
         "submitter_email": f"filer{i % 8}@example.com", "priority": 3}
        for i, (_t, b) in enumerate(mix)
    ]  # fmt: skip
    luas["django-helpdesk 2.6.1"] = var / "helpdesk.lua"
    write_lua(
        luas["django-helpdesk 2.6.1"],
        "/api/tickets/",
        [(hd_tokens[i % len(hd_tokens)], b) for i, b in enumerate(hd_bodies)],
    )

    city_env = dict(os.environ, DJANGO_SETTINGS_MODULE="citygov.settings.dev", DEBUG="0",
                    DATABASE_CONN_MAX_AGE=CONN_MAX_AGE, DATABASE_CONN_HEALTH_CHECKS=CONN_HEALTH_CHECKS)  # fmt: skip
    targets = {  # name → (python, app, env, port, path)
        "citygov": (sys.executable, "citygov.wsgi", city_env, port, "/api/v1/events"),
        "plain DRF tracker": (sys.executable, "django.core.wsgi:get_wsgi_application()", peer_env, port + 1, "/tickets"),
        "django-helpdesk 2.6.1": (hd_python, "django.core.wsgi:get_wsgi_application()", hd_env, port + 2, "/api/tickets/"),
    }  # fmt: skip
    order = ["citygov auto", "django-helpdesk 2.6.1", "citygov suggest", "plain DRF tracker", "citygov mix"]
    results: dict[int, dict[str, list[Run]]] = {}
    for workers in workers_list:
        servers = {name: gunicorn(py, app, p, env, workers, threads) for name, (py, app, env, p, _u) in targets.items()}
        try:
            server_of = {n: targets["citygov" if n.startswith("citygov") else n] for n in order}
            url = {n: f"http://127.0.0.1:{t[3]}{t[4]}" for n, t in server_of.items()}
            for name in order:  # warm up: processes, caches, connections
                wrk(url[name], luas[name], 3)
            runs: dict[str, list[Run]] = {name: [] for name in order}
            print(f"[http] {workers} workers x {threads} threads each, {CONNECTIONS} connections, "
                  f"{rounds} alternating rounds of {seconds} s; load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
            for r in range(rounds):
                for name in order[r % len(order) :] + order[: r % len(order)]:
                    server = servers["citygov" if name.startswith("citygov") else name]
                    runs[name].append(wrk(url[name], luas[name], seconds, server))
                    run = runs[name][-1]
                    print(f"  round {r + 1} {name:<22} {run.ok_per_s:7.1f} ok/s  p50 {run.latency.get('50%', 0):7.1f} ms  "
                          f"p99 {_p99(run)}  app CPU {run.cpu_ms:5.1f} ms/req  db CPU {run.db_cpu_ms:4.1f}  wrk CPU {run.wrk_cpu_ms:4.1f}  steal {run.steal_pct:4.1f} %  non-2xx {run.non2xx}  timeouts {run.timeouts}  socket errors "
                          f"{run.socket_errors}", flush=True)  # fmt: skip
            results[workers] = runs
        finally:
            for server in servers.values():
                server.terminate()
            for server in servers.values():
                server.wait(timeout=30)
    _summary(results)
    return results


def _p99(run: Run) -> str:
    return f"{run.p99:7.1f} ms" if run.p99 is not None else f"> {TIMEOUT_S} s (timeouts)"


def _summary(results: dict[int, dict[str, list[Run]]]) -> None:
    print(f"[http] medians over rounds; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for workers, runs in results.items():
        rate = {name: statistics.median(r.ok_per_s for r in rs) for name, rs in runs.items()}
        cpu = {name: statistics.median(r.cpu_ms for r in rs) for name, rs in runs.items()}
        db_cpu = {name: statistics.median(r.db_cpu_ms for r in rs) for name, rs in runs.items()}
        wrk_cpu = {name: statistics.median(r.wrk_cpu_ms for r in rs) for name, rs in runs.items()}
        hd, plain = rate["django-helpdesk 2.6.1"], rate["plain DRF tracker"]
        print(f"  {workers} workers:")
        for name, rs in runs.items():
            p99s = [r.p99 for r in rs]
            p99 = "n/a (timeouts)" if None in p99s else f"{statistics.median(p99s):.1f} ms"  # type: ignore[type-var]
            ratio = (
                f"  = {rate[name] / hd:.2f} x helpdesk, {rate[name] / plain:.2f} x plain"
                if name.startswith("citygov")
                else ""
            )
            print(f"    {name:<22} {rate[name]:7.1f} ok/s  p99 {p99:>10}  app CPU {cpu[name]:5.1f} ms/req  "
                  f"db CPU {db_cpu[name]:4.1f}  wrk CPU {wrk_cpu[name]:4.1f} ms/req  timeouts {sum(r.timeouts for r in rs)}  non-2xx {sum(r.non2xx for r in rs)}  "
                  f"socket errors {sum(r.socket_errors for r in rs)}{ratio}")  # fmt: skip
