"""Bounds every channel applies to inputs (web forms, API query parameters, reports)."""

from datetime import date

# Dates outside these make no sense for events and overflow date arithmetic near 9999-12-31.
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2100, 12, 31)
