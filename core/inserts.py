"""New rows in one INSERT, without the ORM's query compiler (issue #20).

`QuerySet.bulk_create` for the two or three rows an intake writes per table spends most of its
CPU compiling the statement (an `InsertQuery`, its compiler, per-value expression checks, the
PostgreSQL UNNEST rewrite) rather than running it. `insert_new` writes the same rows with the
same values: each field's own `pre_save(add=True)` and `get_db_prep_save`, as the compiler calls
them, so defaults, `auto_now_add`, JSON and decimal adaptation stay the models'; only the SQL text
is assembled here, once per model. It sends no signals, like `bulk_create`. Whatever it does not
cover (multi-table inheritance, fields with their own placeholders, SQL expressions as values,
a database default left to the database among them, rows that would pass the backend's
parameter limit, a mix of rows with and without a primary key) goes to `bulk_create` unchanged.

NULLs and booleans are written into the statement as the literals `NULL`, `TRUE` and `FALSE`, not
sent as parameters: psycopg's client-side binding would put exactly those literals in their place,
and with fewer parameters a statement stays under psycopg's limit for its cache of parsed
statements (50 parameters): an intake's three clocks (66 values, 23 of them NULL or boolean) were
parsed anew on every intake. The few patterns of NULLs a model's rows show give a few statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import connections, router
from django.db.models import AutoField, BooleanField, Model

M = TypeVar("M", bound=Model)

MAX_PARAMETERS = 900  # under SQLite's 999 default; bulk_create batches anything larger

# (model, alias, with primary key) → (fields, which are booleans, "INSERT … VALUES ", " RETURNING …" or "")
_statements: dict[tuple[type, str, bool], tuple[list, list[bool], str, str]] = {}
_BOOLEAN = {True: "TRUE", False: "FALSE"}


def _statement(model: type[Model], alias: str, with_pk: bool) -> tuple[list, list[bool], str, str] | None:
    key = (model, alias, with_pk)
    if key in _statements:
        return _statements[key]
    opts = model._meta
    connection = connections[alias]
    fields = [f for f in opts.concrete_fields if not f.generated]
    if (
        opts.parents
        or not connection.features.can_return_rows_from_bulk_insert
        or not hasattr(connection.ops, "return_insert_columns")  # PostgreSQL's, SQLite's, Oracle's
        or any(hasattr(f, "get_placeholder") for f in fields)
    ):
        return None
    returning = ""
    if not with_pk:
        fields = [f for f in fields if not isinstance(f, AutoField)]
        sql, _params = connection.ops.return_insert_columns([opts.pk])
        returning = " " + sql
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    head = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES "  # noqa: S608 - names from the model
    booleans = [isinstance(f, BooleanField) for f in fields]
    _statements[key] = (fields, booleans, head, returning)
    return _statements[key]


def insert_new(objs: Sequence[M]) -> list[M]:
    """Insert new instances of one model in one statement, setting their primary keys; like
    `Model.objects.bulk_create(objs)` (whose path any case not covered here takes)."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    opts = model._meta
    alias = router.db_for_write(model)
    for obj in objs:
        if obj.pk is None:
            obj.pk = opts.pk.get_pk_value_on_save(obj)
        # As bulk_create does: a related object saved after it was assigned lends its pk now.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    with_pk = {obj.pk is not None for obj in objs}
    statement = _statement(model, alias, with_pk.pop()) if len(with_pk) == 1 else None
    if statement is None or len(statement[0]) * len(objs) > MAX_PARAMETERS:
        return model._default_manager.using(alias).bulk_create(objs)
    fields, booleans, head, returning = statement
    connection = connections[alias]
    params: list = []
    rows: list[str] = []
    for obj in objs:
        marks: list[str] = []
        for f, boolean in zip(fields, booleans, strict=True):
            value = f.get_db_prep_save(f.pre_save(obj, add=True), connection=connection)
            if value is None:
                marks.append("NULL")
            elif boolean and type(value) is bool:
                marks.append(_BOOLEAN[value])
            elif hasattr(value, "as_sql"):  # an expression (or DatabaseDefault): the compiler's business
                return model._default_manager.using(alias).bulk_create(objs)
            else:
                marks.append("%s")
                params.append(value)
        rows.append("(" + ", ".join(marks) + ")")
    with connection.cursor() as cursor:
        cursor.execute(head + ", ".join(rows) + returning, params)
        ids = cursor.fetchall() if returning else []
    for i, obj in enumerate(objs):
        if returning:
            setattr(obj, opts.pk.attname, ids[i][0])
        obj._state.adding = False
        obj._state.db = alias
    return objs
