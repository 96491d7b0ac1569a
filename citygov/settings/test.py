"""Test settings: the embedded defaults, plus what makes tests fast and isolated."""

import tempfile

from citygov.settings.dev import *  # noqa: F403
from citygov.settings.env import VAR_DIR, broker_from_env, env_str

# Hashing cost is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="citygov-test-media-")
# A folder broker of its own, so a running development worker never takes a test's task.
if not env_str("REDIS_URL") and not env_str("CELERY_BROKER_URL"):
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_RESULT_BACKEND = broker_from_env(VAR_DIR / "test-broker")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests file many events a minute; the limiter has its own tests with their own limits.
INTAKE_RATE_PER_USER_PER_MINUTE = 100_000
INTAKE_RATE_PER_KEY_PER_MINUTE = 100_000
# Another process's edit is seen at once (production checks at most once a second).
PROCESS_CACHE_CHECK_SECONDS = 0
# Every after-commit kick is sent, as the kick tests expect (production coalesces them, one a second).
OUTBOX_KICK_SECONDS = 0.0
