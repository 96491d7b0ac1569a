"""Setting what a related manager returns from objects already in memory (no query)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models


def remember_related(instance: models.Model, name: str, objects: Sequence[models.Model]) -> None:
    """Make `instance.<name>.all()` return `objects`, as prefetch_related would have, without a query.

    For rows just written: the service knows them, so the response need not read them back.
    """
    manager = getattr(instance, name)
    queryset = manager.get_queryset()  # not yet cached: a lazy, unevaluated queryset
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    # Many-to-many managers name their cache slot; reverse foreign keys use the field's cache name.
    key = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[key] = queryset
