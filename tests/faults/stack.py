"""A private citygov stack for fault tests: its own PostgreSQL cluster and Redis
server on free ports, gunicorn, Celery workers and beats, all real processes
that a test may stop, kill or restart without touching the machine's services.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def postgres_bindir() -> Path | None:
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def available() -> str | None:
    """Why the stack cannot run here, or None."""
    if postgres_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as another user"
    return None


class Postgres:
    """A throwaway cluster (initdb) on a free port, data in `root`."""

    def __init__(self, root: Path) -> None:
        self.bindir = postgres_bindir()
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.root = root

    def _as_owner(self, *args: str) -> list[str]:
        # initdb and postgres refuse to run as root.
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            self._as_owner(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N"),
            check=True,
            capture_output=True,
        )
        self.start()
        subprocess.run(
            self._as_owner(
                str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "citygov"
            ),
            check=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
        subprocess.run(
            self._as_owner(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast", check: bool = True) -> None:
        subprocess.run(
            self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"),
            check=check,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/citygov"

    def query_ok(self) -> bool:
        try:
            self.query("SELECT 1")
        except Exception:
            return False
        return True

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


class Redis:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.log = root / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            server = shutil.which("redis-server") or "redis-server"
            self.process = subprocess.Popen(
                [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Stack:
    """citygov processes against the private PostgreSQL and Redis."""

    def __init__(self, root: Path, postgres: Postgres, redis: Redis) -> None:
        self.root = root
        self.postgres = postgres
        self.redis = redis
        self.processes: list[subprocess.Popen] = []
        self.web_port = free_port()

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="citygov.settings.dev",
            DEBUG="0",
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            INTAKE_RATE_PER_USER_PER_MINUTE="1000000",
            CITYGOV_VAR_DIR=str(self.root / "var"),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, args: list[str], **extra_env: str) -> subprocess.Popen:
        with (self.root / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                args, cwd=ROOT, env=self.env(**extra_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    def start_web(self, workers: int = 2) -> subprocess.Popen:
        process = self.spawn(
            "web",
            [PY, "-m", "gunicorn", "citygov.wsgi", "-b", f"127.0.0.1:{self.web_port}", "-w", str(workers)],
        )
        wait_until(self._web_answers, 30, "gunicorn to answer")
        return process

    def _web_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/api/v1/categories", timeout=1)
        except urllib.error.HTTPError:
            return True  # 401/403: the server is up
        except OSError:
            return False
        return True

    def start_worker(self, name: str = "worker", concurrency: int = 1, **env: str) -> subprocess.Popen:
        return self.spawn(
            name,
            [PY, "-m", "celery", "-A", "citygov", "worker", "-c", str(concurrency), "-n", f"{name}@%h", "-l", "info"],
            **env,
        )

    def start_beat(self, name: str = "beat", **env: str) -> subprocess.Popen:
        schedule = self.root / f"{name}-schedule"
        return self.spawn(name, [PY, "-m", "celery", "-A", "citygov", "beat", "-s", str(schedule), "-l", "info"], **env)

    def kill(self, process: subprocess.Popen, sig: int = signal.SIGKILL, grace: float = 30) -> None:
        """Signal the whole process group (a Celery worker and its pool children), even if its
        leader has exited; SIGKILL whatever is still there after `grace` seconds."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # pool children outliving their leader
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        try:
            for process in self.processes:
                self.kill(process, signal.SIGTERM)
        finally:
            self.processes.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.root.glob("*.log"))
        )
