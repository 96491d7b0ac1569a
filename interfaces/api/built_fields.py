"""Serializer fields built once per class (issue #20).

DRF builds a serializer's fields on every instance: a ModelSerializer inspects the model, and
every serializer deep-copies its declared fields (each `Field.__deepcopy__` re-runs the field's
constructor). On intake that cost more than the rest of the view's own code. Here the fields are
built once per class and each instance gets its own shallow copy of each: binding (`field_name`,
`parent`, `source_attrs`) sets attributes on the copy only, and what the copies share (kwargs,
validators, error messages, choices) is only read. A field that holds other fields (a nested
serializer, a list's child) is deep-copied as DRF does, since its children point at their parent.
"""

from __future__ import annotations

import copy
from typing import ClassVar

from rest_framework import serializers


def _copy(field: serializers.Field) -> serializers.Field:
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    # What copy.copy does for a field (a new instance, the same attributes), without its
    # __reduce_ex__ round: a third of the cost, for the 30-odd fields of each serializer.
    shallow = object.__new__(type(field))
    shallow.__dict__.update(field.__dict__)
    return shallow


class FieldsBuiltOnce:
    """Mixin for a serializer class: `get_fields` builds once per class, then copies cheaply."""

    _built_fields: ClassVar[dict[type, dict]] = {}

    def get_fields(self):
        built = FieldsBuiltOnce._built_fields.get(type(self))
        if built is None:
            built = FieldsBuiltOnce._built_fields[type(self)] = super().get_fields()  # type: ignore[misc]
        return {name: _copy(field) for name, field in built.items()}
