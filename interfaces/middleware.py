from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class CspNonce:
    """A per-request nonce, made only when a template prints it.

    Pages that print it (the API docs, whose Swagger UI and ReDoc need inline
    init code) get it added to script-src and style-src; every other page keeps
    the strict policy unchanged, so an injected inline script never runs there.
    """

    def __init__(self) -> None:
        self.value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            self.value = secrets.token_urlsafe(18)
        return self.value

    @property
    def used(self) -> bool:
        return self.value is not None


def policy_with_nonce(policy: str, nonce: str | None, extra: dict[str, str] | None = None) -> str:
    """The policy with 'nonce-…' added to script-src and style-src, and extra sources per directive."""
    additions = {"script-src": f"'nonce-{nonce}'", "style-src": f"'nonce-{nonce}'"} if nonce else {}
    for directive, source in (extra or {}).items():
        additions[directive] = f"{additions[directive]} {source}" if directive in additions else source
    parts = []
    for part in policy.split(";"):
        words = part.split()
        if not words:
            continue
        if words[0] in additions:
            words.append(additions.pop(words[0]))
        parts.append(" ".join(words))
    # A directive the policy lacked would fall back to default-src: add it whole.
    parts.extend(f"{directive} 'self' {source}" for directive, source in additions.items())
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header configured as settings.CSP_HEADER.

    Django 5.2 has no built-in CSP support (it arrives in 6.0); one header
    does not justify another dependency. Each request carries `request.csp_nonce`;
    a response may ask for extra sources with `response.csp_extra` (the ReDoc
    page needs `worker-src blob:` for its search worker).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = CspNonce()
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        # Read per request: tests switch the policy on for a live server already running.
        policy = getattr(settings, "CSP_HEADER", "")
        if not policy:
            return response
        extra = getattr(response, "csp_extra", None)
        if nonce.used or extra:
            policy = policy_with_nonce(policy, nonce.value, extra)
        response.headers.setdefault("Content-Security-Policy", policy)
        return response
