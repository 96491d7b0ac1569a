"""Token authentication for the API, in one written-out statement (#20).

DRF's `TokenAuthentication` looks the key up with `Token.objects.select_related("user").get(key=…)`:
on every API request the ORM compiles that query again, which cost more CPU than running it. This
one sends the same join as SQL assembled once per process, builds the two objects with
`Model.from_db` (as the ORM does: deferred loading, `_state`, the same field values) and keeps every
answer of DRF's: the same errors, for an unknown key and for an inactive user, and `(user, token)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router
from django.db.models.expressions import Col
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import User


@dataclass(frozen=True)
class _Lookup:
    sql: str
    token_fields: list[str]
    user_fields: list[str]
    # (column index, the backend's and the field's converters), as the ORM applies them to a row:
    # SQLite hands back time stamps as text and booleans as integers.
    converters: list[tuple[int, Col, list[Callable]]]


@functools.cache
def _lookup(alias: str) -> _Lookup:
    """SELECT token columns, user columns FROM token JOIN user WHERE key = %s, for one database."""
    connection = connections[alias]
    fields = [*Token._meta.concrete_fields, *User._meta.concrete_fields]
    columns = [f"t.{f.column}" for f in Token._meta.concrete_fields] + [
        f"u.{f.column}" for f in User._meta.concrete_fields
    ]
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(f.model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((i, col, found))
    user_fk = Token._meta.get_field("user").column  # type: ignore[union-attr]
    sql = (
        f"SELECT {', '.join(columns)} FROM {Token._meta.db_table} t "  # noqa: S608 - names from the models; the key is a parameter
        f"JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = t.{user_fk} "  # type: ignore[union-attr]
        f"WHERE t.{Token._meta.pk.column} = %s"  # type: ignore[union-attr]
    )
    return _Lookup(
        sql,
        [f.attname for f in Token._meta.concrete_fields],
        [f.attname for f in User._meta.concrete_fields],
        converters,
    )


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, without compiling the lookup per request."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        db = router.db_for_read(Token)
        lookup = _lookup(db)
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(lookup.sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        values = list(row)
        for i, col, converters in lookup.converters:
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        split = len(lookup.token_fields)
        token = Token.from_db(db, lookup.token_fields, values[:split])
        user = User.from_db(db, lookup.user_fields, values[split:])
        Token.user.field.set_cached_value(token, user)  # token.user without a query
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
