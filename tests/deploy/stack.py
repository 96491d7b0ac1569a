"""A production-settings stack on this machine: gunicorn (citygov.settings.prod + WhiteNoise) on a
fresh PostgreSQL database, and Caddy in front running deploy/Caddyfile itself, over plain HTTP on
127.0.0.1 high ports. No Docker engine: the same settings, proxy file and headers as compose.yaml.

The fresh database is `<DATABASE_URL's name>_prodsmoke` on DATABASE_URL's server. Its data comes
from `seed_demo` run with the development settings (the demo refuses production settings, as it
must: that refusal is the product's, not the test's); the photo is filed through the services under
production settings, so it is stored exactly where and how the production server reads it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from citygov.settings.test import redis_database_of_worker

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CADDY = shutil.which("caddy")
ACCEL_PREFIX = "/protected-media"
REQUIRE_FLAGS = ("CITYGOV_REQUIRE_PROD_SMOKE", "CITYGOV_REQUIRE_FAULT_STACK")


def required() -> bool:
    """Set by .ci/run's PostgreSQL step: there these tests must run, never skip."""
    return any(os.environ.get(flag) for flag in REQUIRE_FLAGS)


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"} else None


def missing(*, caddy: bool) -> str | None:
    """Why the stack cannot run here, or None."""
    if postgres_url() is None:
        return "production smoke runs on PostgreSQL only: set DATABASE_URL=postgres://… (CI's PostgreSQL step does)"
    if caddy and CADDY is None:
        return "needs Caddy (apt-get install caddy; .ci/run installs it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} not open after {seconds}s:\n{log.read_text()[-3000:]}")


@dataclass
class Photo:
    event_pk: int
    event_code: str
    attachment: int
    file_name: str
    thumbnail_name: str


@dataclass
class ProdStack:
    root: Path
    through_caddy: bool = True
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    gunicorn_port: int = 0
    caddy_port: int = 0
    photo: Photo | None = None

    # -- setup ---------------------------------------------------------------------------------
    def _database(self) -> str:
        base = postgres_url()
        assert base is not None
        parts = urlsplit(base)
        # One per pytest-xdist process: two modules' stacks may start at once.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        name = f"{parts.path.lstrip('/') or 'citygov'}_prodsmoke{'_' + worker if worker else ''}"
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _manage(self, *args: str, settings: str = "citygov.settings.prod", stdin: str | None = None) -> str:
        env = {**self.env, "DJANGO_SETTINGS_MODULE": settings}
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def start(self) -> ProdStack:
        var = self.root / "var"
        (var / "media").mkdir(parents=True)
        self.gunicorn_port = free_port()
        self.caddy_port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "citygov.settings.prod",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on loopback: no redirect to HTTPS, no HSTS (the browser would remember it).
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": self._database(),
            "CITYGOV_VAR_DIR": str(var),
            "MEDIA_ROOT": str(var / "media"),
        }
        if os.environ.get("REDIS_URL"):
            # The same Redis database as this test process's broker: one per pytest-xdist process.
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            url = os.environ["REDIS_URL"]
            self.env["REDIS_URL"] = redis_database_of_worker(url, worker) if worker else url
        if self.through_caddy:
            # As compose.yaml sets them for the app behind its one proxy.
            self.env["ATTACHMENT_ACCEL_REDIRECT_PREFIX"] = ACCEL_PREFIX
            self.env["TRUSTED_PROXY_COUNT"] = "1"
        self._manage("migrate", "--no-input", "-v", "0")
        self._manage("collectstatic", "--no-input", "-v", "0")
        self._manage("seed_demo", settings="citygov.settings.dev")
        self.photo = Photo(**json.loads(self._manage("shell", stdin=FILE_PHOTO).strip().splitlines()[-1]))
        self._gunicorn()
        if self.through_caddy:
            self._caddy()
        return self

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        log = self.root / f"{name}.log"
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        self.processes.append(process)
        _wait_for(port, process, log)

    def _gunicorn(self) -> None:
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        argv = [gunicorn, "citygov.wsgi:application", "--bind", f"127.0.0.1:{self.gunicorn_port}"]
        argv += ["--workers", "2", "--access-logfile", "-"]
        self._spawn("gunicorn", argv, self.env, self.gunicorn_port)

    def _caddy(self) -> None:
        assert CADDY is not None
        env = {
            "PATH": self.env["PATH"],
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.root / "caddy-config"),
            "SITE_ADDRESS": f"http://127.0.0.1:{self.caddy_port}",
            "CADDY_ADMIN": "off",
            "UPSTREAM_HOST": "127.0.0.1",
            "UPSTREAM_PORT": str(self.gunicorn_port),
            "MEDIA_DIR": self.env["MEDIA_ROOT"],
        }
        argv = [CADDY, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"]
        self._spawn("caddy", argv, env, self.caddy_port)
        # The dynamic upstream resolves on first use; wait until a request goes through.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if Http(self.caddy_port).get("/healthz").status < 500:
                return
            time.sleep(0.3)
        raise RuntimeError("Caddy never reached gunicorn:\n" + (self.root / "caddy.log").read_text()[-3000:])

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    @property
    def port(self) -> int:
        return self.caddy_port if self.through_caddy else self.gunicorn_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# Run by `manage.py shell` under production settings: one event with a JPEG, filed by a 南湖 grid worker.
FILE_PHOTO = """
import io, json
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from tests.factories import file_event
buf = io.BytesIO()
Image.new("RGB", (800, 600), (200, 80, 40)).save(buf, "JPEG")
event = file_event(photos=[SimpleUploadedFile("street.jpg", buf.getvalue(), content_type="image/jpeg")])
a = event.attachments.get()
print(json.dumps({"event_pk": event.pk, "event_code": event.code, "attachment": a.pk,
                  "file_name": a.file.name, "thumbnail_name": a.thumbnail.name}))
"""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Http:
    """A tiny client: its own cookie jar (Secure cookies too: this is loopback), a chosen source address."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port, self.source = port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))
        sent = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "en", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        raw = conn.getresponse()
        data = raw.read()
        for value in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        conn.close()
        return Response(raw.status, {k.lower(): v for k, v in raw.headers.items()}, data)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def login(self, username: str, password: str, headers: dict[str, str] | None = None) -> Response:
        form = self.get("/accounts/login/").body.decode()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert match, form[:500]
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)})
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", "/accounts/login/", body=body.encode(), headers=sent)
