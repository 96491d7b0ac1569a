"""Test settings: the embedded defaults, plus what makes tests fast and isolated."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

from citygov.settings.dev import *  # noqa: F403
from citygov.settings.env import VAR_DIR, broker_from_env, env_str

# pytest-xdist runs the suite in processes gw0, gw1 …; each gets its own broker (a folder, or a Redis
# database) so one process's worker never takes another's task. Empty for a serial run.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def redis_database_of_worker(url: str, worker: str) -> str:
    """redis://host:port/N → the same server, database 8 + the worker's number (gw0 → 8, gw1 → 9 …)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{8 + int(worker.removeprefix('gw'))}"))


# Hashing cost is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="citygov-test-media-")
# A folder broker of its own, so a running development worker never takes a test's task.
if not env_str("REDIS_URL") and not env_str("CELERY_BROKER_URL"):
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_RESULT_BACKEND = broker_from_env(
        VAR_DIR / "test-broker" / (XDIST_WORKER or "serial")
    )
elif XDIST_WORKER and CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_URL = redis_database_of_worker(CELERY_BROKER_URL, XDIST_WORKER)
    if CELERY_RESULT_BACKEND and CELERY_RESULT_BACKEND.startswith("redis"):
        CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests file many events a minute; the limiter has its own tests with their own limits.
INTAKE_RATE_PER_USER_PER_MINUTE = 100_000
INTAKE_RATE_PER_KEY_PER_MINUTE = 100_000
# Another process's edit is seen at once (production checks at most once a second).
PROCESS_CACHE_CHECK_SECONDS = 0
# Every after-commit kick is sent, as the kick tests expect (production coalesces them, one a second).
OUTBOX_KICK_SECONDS = 0.0
