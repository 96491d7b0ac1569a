"""Login lockout (登录锁定) behind the TLS proxy: the real client address, and two thresholds.

The client address. Behind Caddy, REMOTE_ADDR is the proxy's; the client is in
X-Forwarded-For, which each proxy appends to. Only the rightmost
`TRUSTED_PROXY_COUNT` hops were written by proxies we run: anything left of them
came from the client and can be forged, so the address is read from the right,
one place past the trusted proxies. With 0 (development, gunicorn reached
directly) X-Forwarded-For is ignored and REMOTE_ADDR is the client.
(django-axes reads the address through django-ipware when it is installed; it is
not in the lock, so `AXES_CLIENT_IP_CALLABLE` points here instead.)

The thresholds. A username tried from one address locks that pair after
`AXES_FAILURE_LIMIT` failures (the person who mistyped is not locking out a
colleague); an address that fails `AXES_IP_FAILURE_LIMIT` times over any number
of usernames (password spraying) is locked as a whole. django-axes counts every
lockout parameter but compares them all to one limit, so the handler below gives
the address-wide count its own, higher limit.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def _address(value: str) -> str | None:
    """`value` as a canonical IP address, or None if it is not one (a forged header may hold anything)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For read from the right past the trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = max(int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0), 0)
    if not trusted:
        return _address(remote) or remote or None
    forwarded = [hop for hop in (request.META.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if hop.strip()]
    hops = [*forwarded, remote]
    # hops[-1] is the nearest proxy (the peer); hops[-1 - trusted] is whoever reached the outermost one.
    if len(hops) <= trusted:
        # Fewer hops than proxies: a request that bypassed the proxy; its own peer is all we know.
        return _address(remote) or remote or None
    return _address(hops[-1 - trusted]) or _address(remote) or remote or None


class TieredLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with a separate limit for the address alone.

    AXES_LOCKOUT_PARAMETERS is [["username", "ip_address"], "ip_address"]: the
    first counts one username from one address, the second every failure from the
    address. The pair is held to AXES_FAILURE_LIMIT, the address to
    AXES_IP_FAILURE_LIMIT; past either, this reports the failure limit reached.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        pair_limit = get_failure_limit(request, credentials)
        ip_limit = int(getattr(settings, "AXES_IP_FAILURE_LIMIT", 0) or 0)
        parameters = list(settings.AXES_LOCKOUT_PARAMETERS)
        pair_count = 0
        for parameter, count in zip(parameters, counts, strict=False):
            if parameter == "ip_address" or parameter == ["ip_address"]:
                if ip_limit and count >= ip_limit:
                    return max(count, pair_limit)
            else:
                pair_count = max(pair_count, count)
        return pair_count
