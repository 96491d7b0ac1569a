"""Model instances from rows of a written-out SELECT, as the ORM builds them (issue #20).

A hot path that sends its own SQL (the token lookup, the duplicate search) still hands back
model instances: each column goes through the converters the ORM would apply (the backend's and
the field's: SQLite hands back time stamps as text and booleans as integers), then `Model.from_db`
builds the instance (`_state`, deferred loading of the columns not selected).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connections
from django.db.models import Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)


@functools.cache
def _converters(model: type[Model], alias: str, attnames: tuple[str, ...]) -> tuple[tuple[int, Col, tuple], ...]:
    connection = connections[alias]
    found = []
    for i, name in enumerate(attnames):
        field = next(f for f in model._meta.concrete_fields if f.attname == name)
        col = field.get_col(model._meta.db_table)
        converters = (*connection.ops.get_db_converters(col), *col.get_db_converters(connection))
        if converters:
            found.append((i, col, converters))
    return tuple(found)


def columns(model: type[Model], attnames: Sequence[str], table: str = "") -> str:
    """The quoted column list for `attnames`, optionally qualified by a table alias."""
    prefix = f"{table}." if table else ""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return ", ".join(f'{prefix}"{by_attname[name].column}"' for name in attnames)


def from_row(model: type[M], alias: str, attnames: Sequence[str], row: Sequence) -> M:
    """An instance of `model` from `row`, whose values are the columns of `attnames` in order
    (any order; the columns not named are deferred, loaded if someone asks)."""
    names = tuple(attnames)
    values = list(row)
    if len(values) != len(names):
        raise ValueError(f"{model.__name__}: {len(values)} values for the {len(names)} columns {names}")
    ordered, positions = _field_order(model, names)
    connection = connections[alias]
    for i, col, converters in _converters(model, alias, names):
        convert: Callable
        for convert in converters:
            values[i] = convert(values[i], col, connection)
    return model.from_db(alias, ordered, [values[i] for i in positions])


@functools.cache
def _field_order(model: type[Model], names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """from_db takes the values in the model's field order (the columns not named are deferred):
    those names in that order, and where each one is in `names`."""
    if len(set(names)) != len(names):
        raise ValueError(f"{model.__name__}: a column named twice in {names}")
    ordered = tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)
    if len(ordered) != len(names):
        raise ValueError(f"{model.__name__} has no column {sorted(set(names) - set(ordered))}")
    return ordered, tuple(names.index(name) for name in ordered)
