"""The peer: a plain Django + DRF ticket tracker, measured beside citygov in bench/run.py.

One model, one create endpoint with token authentication, served by the same
gunicorn on the same PostgreSQL. It does what the issue's "plain Django ticket
tracker" does: validate, insert one row, answer 201. No grids, rules, history,
clocks or outbox.
"""

import os

import dj_database_url

SECRET_KEY = "bench-peer-not-a-secret"  # noqa: S105 - a local benchmark server only
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework.authtoken",
    "tickets",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
# Persistent connections with health checks as citygov's production settings (bench/run.py sets the
# same for all three).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["PEER_DATABASE_URL"],
        conn_max_age=int(os.environ.get("PEER_CONN_MAX_AGE", "0")),
        conn_health_checks=os.environ.get("PEER_CONN_HEALTH_CHECKS") == "1",
    )
}
# And citygov's PostgreSQL driver options (server-side binding, statements prepared after 5 uses),
# so that what differs between the servers is the application, not how it talks to the database.
if os.environ.get("PEER_PREPARED_STATEMENTS") == "1":
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
ROOT_URLCONF = "urls"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
