"""The django-helpdesk 2.6.1 peer, measured beside citygov in bench/run.py.

A stock helpdesk: its own apps, its own URLs, its DRF API. A ticket is created through
helpdesk's own path, POST /api/tickets/ (TicketViewSet → TicketSerializer.create →
TicketForm.save: the ticket, its custom fields, the opening follow-up, the e-mail round to
submitter and CCs, backlinks, the new-ticket signal). Token authentication as citygov's API
uses, same gunicorn, same PostgreSQL. Mail goes to Django's dummy backend (rendered, not sent).
"""

import os

import dj_database_url

SECRET_KEY = "bench-helpdesk-peer-not-a-secret"  # noqa: S105 - a local benchmark server only
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
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
TIME_ZONE = "Asia/Shanghai"
ROOT_URLCONF = "urls"
STATIC_URL = "/static/"
LOGIN_URL = "/helpdesk/login/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
HELPDESK_API_ENABLED = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
}
# Teams need pinax-teams, which 2.6.1 does not install; helpdesk's documented switch turns them off.
HELPDESK_TEAMS_MODE_ENABLED = False
