"""Embedded defaults: SQLite, a folder broker, a fixed development key.

Nothing here is safe for production; citygov.settings.prod refuses to start
without a real SECRET_KEY.
"""

from citygov.settings.base import *  # noqa: F403
from citygov.settings.env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# A development-only key, never used by the production settings.
SECRET_KEY = env_str("SECRET_KEY", "citygov-dev-only-not-a-secret")
