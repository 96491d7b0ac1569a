"""Fixed-window rate limits kept in the shared cache (Redis in production)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for `key`; False once the window already holds `limit` hits.

    The increment comes first: once a window is open (every hit but its first) that is the only
    round trip to the cache; the first hit of a window adds the counter. With the shared cache
    unreachable (the Redis backend answers None) the hit is allowed: refusing every citizen report
    while Redis restarts would be worse than an unlimited minute.
    """
    bucket = f"citygov:rl:{key}:{int(time.time()) // window_seconds}"
    count: int | None  # None: the Redis backend could not be reached
    try:
        count = cache.incr(bucket)
    except ValueError:  # the window's first hit
        added = cache.add(bucket, 1, timeout=window_seconds + 5)
        if added:
            return limit >= 1
        if added is None:
            return _unreachable(key)
        count = _incr_again(bucket)  # another process opened the window in between
    if count is None:
        return _unreachable(key)
    return count <= limit


def _incr_again(bucket: str) -> int | None:
    try:
        return cache.incr(bucket)
    except ValueError:  # expired at once: count this hit alone
        return 1


def _unreachable(key: str) -> bool:
    log.warning("rate limit: shared cache unreachable, %s not counted", key)
    return True
