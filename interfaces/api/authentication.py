"""Token authentication for the API, in one written-out statement (#20).

DRF's `TokenAuthentication` looks the key up with `Token.objects.select_related("user").get(key=…)`:
on every API request the ORM compiles that query again, which cost more CPU than running it. This
one sends the same join as SQL assembled once per process, builds the two objects as the ORM does
(`core.rows.from_row`: the backend's converters, `Model.from_db`) and keeps every answer of DRF's:
the same errors, for an unknown key and for an inactive user, and `(user, token)`.
"""

from __future__ import annotations

import functools

from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.rows import columns, from_row

TOKEN_FIELDS = tuple(f.attname for f in Token._meta.concrete_fields)
USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields)


@functools.cache
def _sql() -> str:
    """SELECT token columns, user columns FROM token JOIN user WHERE key = %s."""
    user_fk = Token._meta.get_field("user").column  # type: ignore[union-attr]
    return (
        f"SELECT {columns(Token, TOKEN_FIELDS, 't')}, {columns(User, USER_FIELDS, 'u')} "  # noqa: S608 - names from the models; the key is a parameter
        f'FROM "{Token._meta.db_table}" t JOIN "{User._meta.db_table}" u ON u."{User._meta.pk.column}" = t."{user_fk}" '  # type: ignore[union-attr]
        f'WHERE t."{Token._meta.pk.column}" = %s'  # type: ignore[union-attr]
    )


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, without compiling the lookup per request."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        db = router.db_for_read(Token)
        with connections[db].cursor() as cursor:
            cursor.execute(_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split = len(TOKEN_FIELDS)
        token = from_row(Token, db, TOKEN_FIELDS, row[:split])
        user = from_row(User, db, USER_FIELDS, row[split:])
        Token.user.field.set_cached_value(token, user)  # token.user without a query
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
