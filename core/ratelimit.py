"""Fixed-window rate limits kept in the shared cache (Redis in production)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for `key`; False once the window already holds `limit` hits.

    With the shared cache unreachable (the Redis backend answers None) the hit
    is allowed: refusing every citizen report while Redis restarts would be
    worse than an unlimited minute.
    """
    bucket = f"citygov:rl:{key}:{int(time.time()) // window_seconds}"
    added = cache.add(bucket, 1, timeout=window_seconds + 5)
    if added:
        return limit >= 1
    if added is None:
        log.warning("rate limit: shared cache unreachable, %s not counted", key)
        return True
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds + 5)
        count = 1
    return count is None or count <= limit
