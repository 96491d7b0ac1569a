"""A task goes through the configured broker to a real worker and back.

On the embedded defaults that is the folder broker; in CI's second pass it is
the machine's Redis.
"""

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
