"""503 with Retry-After when the database, the broker or the shared cache does not answer.

A bare 500 tells a client "bug"; during an outage the truth is "try again in
a moment". Every channel says so in its own format:

- REST API and department systems (`/api/…`): the API's JSON error
  (`{"code": "service_unavailable", "message": …, "errors": {}}`), from the DRF
  exception handler (interfaces.api.errors) and, for what fails before DRF runs (the
  Idempotency-Key transaction opens the connection first), from the middleware;
- Open311 (`/open311/…`): the GeoReport v2 error list, JSON or XML by the suffix;
- web pages and the admin: templates/503.html, rendered without touching the
  database (no context processors, no user).

`OutageMiddleware.process_exception` catches what a view raises; `server_error`
(handler500) catches what escapes elsewhere (a middleware saving the session),
so no outage reaches the client as a 500.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from interfaces.open311.render import errors as open311_errors  # the spec's error list, one place

log = logging.getLogger(__name__)

# Short: an outage is usually a restart, and clients back off on their own as well.
RETRY_AFTER_SECONDS = 30


def _outage_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [OperationalError, InterfaceError]
    # Django wraps the driver's errors; these catch one that slips through unwrapped.
    try:
        import psycopg

        types += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # the embedded setup runs on SQLite
        pass
    # The broker (kombu wraps its transport errors) and Redis as broker or cache.
    from kombu.exceptions import OperationalError as BrokerError

    types.append(BrokerError)
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        types += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # the embedded setup runs without Redis
        pass
    try:
        from django_redis.exceptions import ConnectionInterrupted

        types.append(ConnectionInterrupted)
    except ImportError:
        pass
    return tuple(types)


OUTAGE_ERRORS = _outage_types()


def is_outage(exc: BaseException | None) -> bool:
    """The database, broker or cache did not answer (directly, or as the explicit cause)."""
    return exc is not None and (isinstance(exc, OUTAGE_ERRORS) or isinstance(exc.__cause__, OUTAGE_ERRORS))


def message() -> str:
    return _("The service is briefly unavailable (its database or queue does not answer). Try again shortly.")


def api_body() -> dict:
    return {"code": "service_unavailable", "message": message(), "errors": {}}


def response_for(request: HttpRequest) -> HttpResponse:
    """The 503 in the format of the channel the request came through."""
    path = request.path_info
    if path.startswith("/api/"):
        response: HttpResponse = JsonResponse(api_body(), status=503, json_dumps_params={"ensure_ascii": False})
    elif path.startswith("/open311/"):
        response = open311_errors("xml" if path.endswith(".xml") else "json", 503, message())
    elif _wants_json(request):
        response = JsonResponse(api_body(), status=503, json_dumps_params={"ensure_ascii": False})
    else:
        # A GET reloads by itself; a POST must not be resent by the page without the user knowing.
        context = {"retry_after": RETRY_AFTER_SECONDS, "reload": request.method == "GET"}
        page = render_to_string("503.html", context)
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json(request: HttpRequest) -> bool:
    # The pages' own fetch() calls (duplicates while filing) ask for JSON, not a page.
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _log(request: HttpRequest, exc: BaseException) -> None:
    # Logged with the traceback: on SQLite "no such table" is an OperationalError too, and
    # whoever reads the log must be able to tell a misconfiguration from a restart.
    log.error("service unavailable: %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc, exc_info=exc)


class OutageMiddleware:
    """Answer 503 + Retry-After instead of 500 when a view fails because a backing service is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None  # a bug stays a 500
        _log(request, exception)
        return response_for(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage raised outside a view still answers 503; anything else is Django's 500."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        return response_for(request)
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)
