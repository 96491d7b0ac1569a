"""A task goes through the configured broker to a real worker and back.

On the embedded defaults that is the folder broker; in CI's second pass it is
the machine's Redis.
"""

from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from citygov.celery import app, ping


@pytest.fixture(scope="module")
def celery_worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def test_a_task_round_trips_through_broker_and_worker(celery_worker):
    result = ping.delay()
    assert result.get(timeout=30) == "pong"


def test_the_folder_broker_writes_its_exchange_tables_under_the_var_directory(celery_worker):
    options = app.conf.broker_transport_options or {}
    assert ping.delay().get(timeout=30) == "pong"
    if app.conf.broker_url.startswith("filesystem"):
        assert list(Path(options["control_folder"]).glob("*.exchange"))
    assert not (Path.cwd() / "control").exists()
