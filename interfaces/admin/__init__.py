"""The admin: reference data and configuration; events, history and clocks read-only.

Django's autodiscovery imports `interfaces.admin`; each module registers one app's models.
"""

from interfaces.admin import accounts, calendars, dispatch, incidents, learning, scores, vitals  # noqa: F401
