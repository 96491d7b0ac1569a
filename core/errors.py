"""Errors the service layer raises; views and the API map them to HTTP answers."""

from __future__ import annotations

from collections.abc import Mapping


class ServiceError(Exception):
    """Base class: `code` is machine-readable, the message is for people."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(ServiceError):
    """Bad input; `errors` maps a field name to its messages ("__all__" for the form)."""

    code = "invalid"
    status = 400

    def __init__(self, errors: Mapping[str, list[str] | str], *, code: str | None = None) -> None:
        self.errors = {field: [msgs] if isinstance(msgs, str) else list(msgs) for field, msgs in errors.items()}
        super().__init__("; ".join(f"{f}: {' '.join(m)}" for f, m in self.errors.items()), code=code)


class NotPermitted(ServiceError):
    code = "forbidden"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    """The event is not in a state that allows this, or someone else changed it first."""

    code = "conflict"
    status = 409


class RateLimited(ServiceError):
    code = "rate_limited"
    status = 429
