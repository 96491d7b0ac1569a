"""docs/DEPLOY.md's backup and restore, walked on PostgreSQL: pg_dump, pg_restore into an empty
database, then `verify_history` there, run as a deployment would (its own process, the database
named by the separate POSTGRES_* settings)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

from tests.citygov.test_settings import run_manage
from tests.factories import file_event

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the backup is a PostgreSQL dump"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs the PostgreSQL client programs"),
]


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": str(db["HOST"] or "127.0.0.1"),
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": str(db["USER"] or "postgres"),
        "PGPASSWORD": str(db["PASSWORD"] or ""),
    }


def _pg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), env=_pg_env(), capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.usefixtures("committed_city")
def test_a_dump_restored_into_an_empty_database_verifies_its_history_chains(tmp_path):
    # Committed for real: the on-commit work (routing may dispatch at once) runs too.
    file_event()
    file_event(category="E0201")
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "citygov.dump"
    env = _pg_env()
    _pg("pg_dump", "-Fc", "-d", source, "-f", str(dump))
    _pg("dropdb", "--if-exists", restored)
    _pg("createdb", restored)
    try:
        _pg("pg_restore", "--no-owner", "--exit-on-error", "-d", restored, str(dump))
        parts = {
            "POSTGRES_HOST": env["PGHOST"],
            "POSTGRES_PORT": env["PGPORT"],
            "POSTGRES_DB": restored,
            "POSTGRES_USER": env["PGUSER"],
            "POSTGRES_PASSWORD": env["PGPASSWORD"],
        }
        result = run_manage("verify_history", **parts)
        assert result.returncode == 0, result.stderr + result.stdout
        assert "All 2 event histories verify." in result.stdout

        # The check has teeth: a record changed in the restored copy is named.
        _pg(
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            restored,
            "-c",
            # The append-only trigger is what stops this in production; a restorer with the dump could.
            "ALTER TABLE incidents_eventrecord DISABLE TRIGGER USER; UPDATE incidents_eventrecord "
            "SET reason = reason || 'x' WHERE id = (SELECT min(id) FROM incidents_eventrecord)",
        )
        tampered = run_manage("verify_history", **parts)
        assert tampered.returncode != 0
        assert "the record was changed" in tampered.stdout + tampered.stderr
    finally:
        _pg("dropdb", "--if-exists", restored)
