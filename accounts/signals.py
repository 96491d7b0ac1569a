"""Signals of the accounts floor for writes that bypass the models' own post_save.

`org_units_bulk_changed` is sent once after a bulk write of org units and
departments (the city import's bulk_create / bulk_update send no post_save),
so the per-process copies built from them (the grid index, routing's
departments) are rebuilt.
"""

from __future__ import annotations

from django.dispatch import Signal

org_units_bulk_changed = Signal()
