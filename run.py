#!/usr/bin/env python3
"""citygov's two commands, for a machine that has only Python 3.11+.

    python3 run.py serve   # make .venv, migrate, seed the demo city, start web + worker + beat
    python3 run.py test    # make .venv with test tools, run the test suite (extra args go to pytest)

Standard library only: it runs before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def log(message: str) -> None:
    print(f"[citygov] {message}", flush=True)


def ensure_venv(dev: bool) -> None:
    """Create .venv and install the lock files, again only when they change."""
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py is the one file an old Python may start
        sys.exit(f"citygov needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    locks = [ROOT / "requirements.lock"] + ([ROOT / "requirements-dev.lock"] if dev else [])
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in locks)).hexdigest()
    stamp = VENV / f".installed-{'dev' if dev else 'run'}"
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        log("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    log("installing pinned dependencies (first run takes a minute)")
    cmd = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for lock in locks:
        cmd += ["-r", str(lock)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    stamp.write_text(digest)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(PY), "manage.py", *args], check=True, cwd=ROOT, env=env)


def serve(argv: list[str]) -> int:
    ensure_venv(dev=False)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")
    # People use what `serve` starts: friendly 403/404/500 pages, never Django's debug page with the
    # settings and the code. DEBUG=1 python3 run.py serve brings the debug page back for a developer.
    env.setdefault("DEBUG", "0")
    env.setdefault("PYTHONUNBUFFERED", "1")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    manage("preflight", env=env)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("seed_demo", env=env)
    manage("collectstatic", "--no-input", "-v", "0", env=env)
    procs = [
        subprocess.Popen(
            [str(PY), "-m", "celery", "-A", "citygov", "worker", "--beat", "--loglevel", "INFO", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            # --insecure: runserver keeps serving static/ with DEBUG off (one local process, no nginx).
            [str(PY), "manage.py", "runserver", "--noreload", "--insecure", f"{host}:{port}"],
            cwd=ROOT,
            env=env,
        ),
    ]
    time.sleep(2)
    manage("seed_demo", "--logins-only", env=env)
    log(f"citygov is running at http://{host}:{port}/  (admin: http://{host}:{port}/admin/, health: /healthz)")
    log("web + Celery worker + beat started; Ctrl-C stops them all.")

    def stop(*_args: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return max((proc.returncode or 0) for proc in procs)


def parallel(argv: list[str]) -> list[str]:
    """pytest-xdist options: one test process per core, each test module kept whole in one process
    so its module-scoped fixtures (a trained model, a production stack) start once.

    TEST_WORKERS sets the count (0 runs in this one process, as does asking for -n, --pdb or a
    debugger yourself)."""
    workers = os.environ.get("TEST_WORKERS", "auto")
    asked = ("-n", "--numprocesses", "--pdb", "--trace")
    serial = workers == "0" or "no:xdist" in argv or {"--co", "--collect-only"} & set(argv)
    if serial or any(arg.startswith(asked) for arg in argv):
        return []
    return ["-n", workers, "--dist", "loadfile"]


def test(argv: list[str]) -> int:
    ensure_venv(dev=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.test")
    return subprocess.run([str(PY), "-m", "pytest", *parallel(argv), *argv], cwd=ROOT, env=env).returncode


COMMANDS = {"serve": serve, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
