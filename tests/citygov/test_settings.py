"""Misconfiguration stops the process at start with a message saying what to fix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from citygov.settings.env import broker_from_env, database_from_env, replica_from_env

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    dropped = {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_default_database_is_an_sqlite_file_under_var(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = database_from_env(tmp_path / "var" / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "var" / "db.sqlite3")


@pytest.mark.parametrize(
    ("url", "hint"),
    [("mysql://root@localhost/db", "scheme 'mysql'"), ("postgres://postgres@127.0.0.1:5432", "names no database")],
)
def test_bad_database_url_is_refused_with_a_hint(monkeypatch, tmp_path, url, hint):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match=hint):
        database_from_env(tmp_path / "x.sqlite3")


def test_default_broker_needs_no_server(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    url, options, backend = broker_from_env(tmp_path)
    assert url == "filesystem://"
    assert Path(options["data_folder_in"]).is_dir()
    assert backend.startswith("file://")
    # kombu's exchange tables live beside the queue, not in ./control of whatever the working directory is.
    assert Path(options["control_folder"]).is_dir()
    assert Path(options["control_folder"]).is_relative_to(tmp_path)


def test_redis_url_becomes_broker_and_result_backend(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    url, options, backend = broker_from_env(tmp_path)
    assert (url, options, backend) == ("redis://127.0.0.1:6379/3", {}, "redis://127.0.0.1:6379/3")


def test_production_settings_refuse_to_start_without_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="citygov.settings.prod", ALLOWED_HOSTS="city.example")
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="citygov.settings.prod",
        ALLOWED_HOSTS="city.example",
        SECRET_KEY="k" * 20 + "-production-test-key-with-enough-entropy-0123456789",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_unreachable_database_stops_preflight_with_what_to_fix():
    result = run_manage("preflight", "--skip-broker", DATABASE_URL="postgres://postgres@127.0.0.1:1/citygov")
    assert result.returncode != 0
    assert "Cannot connect to the database (PostgreSQL postgres@127.0.0.1:1/citygov)" in result.stderr
    assert "Fix DATABASE_URL" in result.stderr


STRONG_PASSWORD = "Xy7@k9#pQ/2"


def test_percent_encoded_database_url_keeps_a_strong_password(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://citygov:Xy7%40k9%23pQ%2F2@db:5432/citygov")
    config = database_from_env(tmp_path / "x.sqlite3")
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "citygov",
        STRONG_PASSWORD,
        "db",
        5432,
        "citygov",
    )


def test_separate_postgres_settings_take_any_password(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in {
        "POSTGRES_HOST": "db",
        "POSTGRES_PORT": "5433",
        "POSTGRES_DB": "city",
        "POSTGRES_USER": "citygov",
        "POSTGRES_PASSWORD": STRONG_PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    config = database_from_env(tmp_path / "x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"], config["PASSWORD"]) == (
        "db",
        5433,
        "city",
        "citygov",
        STRONG_PASSWORD,
    )


def test_database_url_wins_over_postgres_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/from_url")
    monkeypatch.setenv("POSTGRES_HOST", "db")
    assert database_from_env(tmp_path / "x.sqlite3")["NAME"] == "from_url"


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://citygov:{STRONG_PASSWORD}@db:5432/citygov",  # @, # and / as typed
        "postgres://citygov:abc#def@db:5432/citygov",
        "postgres://citygov:p@ss@db:5432/citygov",
    ],
)
def test_unencoded_password_is_refused_with_how_to_encode_it(monkeypatch, tmp_path, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="percent-encode") as error:
        database_from_env(tmp_path / "x.sqlite3")
    assert "%40" in str(error.value) and "POSTGRES_PASSWORD" in str(error.value)


def test_production_settings_refuse_the_placeholder_secret_key_of_env_example():
    placeholder = next(
        line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("SECRET_KEY=")
    )
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="citygov.settings.prod", ALLOWED_HOSTS="city.example", SECRET_KEY=placeholder
    )
    assert result.returncode != 0
    assert "SECRET_KEY is still the placeholder of .env.example" in result.stderr


def test_postgresql_prepares_statements_unless_told_not_to(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/city")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://u@replica:5432/city")
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    for config in (database_from_env(tmp_path / "x.sqlite3"), replica_from_env()):
        assert config is not None
        assert config["OPTIONS"]["server_side_binding"] is True
        assert config["OPTIONS"]["prepare_threshold"] == 5
    assert replica_from_env()["OPTIONS"]["options"] == "-c default_transaction_read_only=on"  # type: ignore[index]

    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "0")  # a pooler that cannot keep them
    for config in (database_from_env(tmp_path / "x.sqlite3"), replica_from_env()):
        assert config is not None
        assert "server_side_binding" not in config.get("OPTIONS", {})
        assert "prepare_threshold" not in config.get("OPTIONS", {})


def test_separate_postgres_settings_prepare_statements_too(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    monkeypatch.setenv("POSTGRES_HOST", "db")
    assert database_from_env(tmp_path / "x.sqlite3")["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_sqlite_has_no_postgresql_options(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("POSTGRES_HOST", raising=False)
    options = database_from_env(tmp_path / "x.sqlite3")["OPTIONS"]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
