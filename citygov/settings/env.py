"""Typed readers for settings that come from the environment.

Each reader fails fast with an ImproperlyConfigured message that names the
variable and says what a good value looks like, so a misconfigured
deployment stops at start instead of at the first request.

Secrets come from the environment only, never from the database: SECRET_KEY (Django's
signing key) and HISTORY_HMAC_KEY, the key that seals each event's history chain and row
(incidents.history; empty means a key derived from SECRET_KEY). Changing either key of the
anchors means sealing again: `manage.py verify_history --reanchor`.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CITYGOV_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be above zero.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_PERCENT_HINT = (
    "If the password holds any of @ : / # ? % [ ], percent-encode it in the URL (@ is %40, # is %23, "
    '/ is %2F, : is %3A, ? is %3F, % is %25), e.g. python3 -c "import sys, urllib.parse; '
    "print(urllib.parse.quote(sys.argv[1], safe=''))\" 'PASSWORD'; or leave DATABASE_URL unset and set "
    "POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER and POSTGRES_PASSWORD, which take any characters."
)


PREPARE_AFTER_USES = 5  # psycopg's own default threshold


def _with_prepared_statements(config: dict) -> dict:
    """PostgreSQL plans each statement once per connection, not once per execution (#20).

    With Django's default (client-side binding) every statement reaches the server as new text, to
    be parsed and planned again: a third of the database's CPU per intake. Server-side binding
    sends the parameters apart from the text, and psycopg prepares a statement on a connection
    after its fifth use. DATABASE_PREPARED_STATEMENTS=0 goes back to client-side binding, for a
    pooler that cannot keep named statements (PgBouncer before 1.21, or max_prepared_statements
    left at 0, in transaction mode): docs/DEPLOY.md.
    """
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        config.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": PREPARE_AFTER_USES})
    return config


def _postgres_from_parts() -> dict | None:
    """The database from separate POSTGRES_* settings, used when DATABASE_URL is absent.

    A password given on its own needs no encoding, whatever characters it holds;
    POSTGRES_HOST switches this on (the other parts have the image's defaults).
    """
    host = env_str("POSTGRES_HOST")
    if host is None:
        return None
    return _with_prepared_statements(
        {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": env_int("POSTGRES_PORT", 5432),
            "NAME": env_str("POSTGRES_DB", "citygov"),
            "USER": env_str("POSTGRES_USER", "postgres"),
            "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 0),
            "CONN_HEALTH_CHECKS": env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
            "DISABLE_SERVER_SIDE_CURSORS": False,
        }
    )


def _malformed(url: str) -> bool:
    """A URL whose password was not percent-encoded: a second @, a # or a port that is no number."""
    rest = url.split("://", 1)[-1]
    if "#" in url or rest.count("@") > 1:
        return True
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError when part of a password reads as the port
    except ValueError:
        return True
    return False


def database_from_env(default_sqlite: Path) -> dict:
    """The database: DATABASE_URL (percent-encoded), else POSTGRES_* parts, else an SQLite file under var/."""
    url = env_str("DATABASE_URL")
    if url is None:
        parts = _postgres_from_parts()
        if parts is not None:
            return parts
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{default_sqlite}"
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL has scheme {scheme!r}; citygov supports PostgreSQL "
            "(postgres://USER:PASSWORD@HOST:PORT/NAME) and SQLite (sqlite:////absolute/path.sqlite3)."
        )
    if scheme != "sqlite" and _malformed(url):
        raise ImproperlyConfigured(
            "DATABASE_URL is malformed (expected postgres://USER:PASSWORD@HOST:PORT/NAME). " + _PERCENT_HINT
        )
    try:
        config = dj_database_url.parse(
            url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
            conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed ({exc}). {_PERCENT_HINT}") from None
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL names no database: add /NAME at the end, e.g. postgres://postgres@127.0.0.1:5432/citygov. "
            + _PERCENT_HINT
        )
    if config["ENGINE"].endswith("postgresql"):
        _with_prepared_statements(config)
    if config["ENGINE"].endswith("sqlite3"):
        # Several processes (web, worker, beat) share the file in the embedded
        # setup: wait for a lock instead of failing with "database is locked".
        config.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    return config


def replica_from_env() -> dict | None:
    """The read replica (DATABASE_REPLICA_URL), for report and export reads (core.replica), or None.

    Same URL rules as DATABASE_URL. Its sessions are read-only on PostgreSQL, so a write routed
    there by mistake fails instead of diverging; in tests the alias mirrors "default" (TEST MIRROR).
    """
    url = env_str("DATABASE_REPLICA_URL")
    if url is None:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL has scheme {scheme!r}; use postgres://USER:PASSWORD@HOST:PORT/NAME "
            "(the streaming replica of DATABASE_URL's database)."
        )
    if scheme != "sqlite" and _malformed(url):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL is malformed (expected postgres://USER:PASSWORD@HOST:PORT/NAME). " + _PERCENT_HINT
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL could not be parsed ({exc}). {_PERCENT_HINT}") from None
    if config["ENGINE"].endswith("postgresql"):
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_REPLICA_URL names no database: add /NAME at the end.")
        config.setdefault("OPTIONS", {})["options"] = "-c default_transaction_read_only=on"
        _with_prepared_statements(config)
    config["TEST"] = {"MIRROR": "default"}
    return config


def broker_from_env(folder: Path) -> tuple[str, dict, str | None]:
    """Choose the Celery broker: CELERY_BROKER_URL, else REDIS_URL, else a folder.

    The filesystem transport needs no server, which is what the embedded
    default promises; producers and consumers share one folder.
    """
    broker = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
    if broker:
        scheme = urlsplit(broker).scheme
        if scheme not in {"redis", "rediss", "amqp", "pyamqp", "filesystem"}:
            raise ImproperlyConfigured(f"Broker URL scheme {scheme!r} is not supported; use redis://HOST:6379/0.")
        return broker, {}, env_str("CELERY_RESULT_BACKEND") or (broker if scheme.startswith("redis") else None)
    queue = folder / "queue"
    processed = folder / "processed"
    # kombu keeps its exchange tables in ./control unless told otherwise: keep them with the queue.
    control = folder / "control"
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": False,
        "control_folder": str(control),
    }
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    return "filesystem://", options, env_str("CELERY_RESULT_BACKEND") or f"file://{results}"
