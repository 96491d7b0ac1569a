"""Fixed-window rate limits kept in the shared cache (Redis in production)."""

from __future__ import annotations

import time

from django.core.cache import cache


def allow(key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for `key`; False once the window already holds `limit` hits."""
    bucket = f"citygov:rl:{key}:{int(time.time()) // window_seconds}"
    added = cache.add(bucket, 1, timeout=window_seconds + 5)
    if added:
        return limit >= 1
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit
