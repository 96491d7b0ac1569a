"""The category catalogue as a per-process copy (core.process_cache): intake reads it on every report.

Inactive categories stay in the copy, so intake can say "no longer in use" rather than "unknown".
The copy's rows are shared by every request in the process: read them, never change them.
"""

from __future__ import annotations

from core.process_cache import ProcessCache
from incidents.models import Category


def _build() -> dict[str, Category]:
    return {c.code: c for c in Category.objects.select_related("parent")}


_categories: ProcessCache[dict[str, Category]] = ProcessCache("categories", _build)


def category_by_code(code: str) -> Category | None:
    return _categories.get().get(code)


def forget_cached_categories(**_kwargs: object) -> None:
    """Signal receiver: a category was saved or deleted (connected in IncidentsConfig.ready)."""
    _categories.invalidate()
