"""Production: every secret from the environment, secure transport, no debug."""

from django.core.exceptions import ImproperlyConfigured

from citygov.settings.base import *  # noqa: F403
from citygov.settings.base import CSP_STRICT_POLICY, DATABASES, SECRET_KEY
from citygov.settings.env import env_bool, env_int, env_list

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or shorter than 50 characters. Set SECRET_KEY in the environment, e.g. "
        "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
# The placeholder of .env.example is public: a copied .env must not start with it.
if "change-me" in SECRET_KEY.lower():
    raise ImproperlyConfigured(
        "SECRET_KEY is still the placeholder of .env.example; replace it in .env with the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'."
    )

DEBUG = False
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must not be on with citygov.settings.prod; unset DEBUG.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty; set it to the host names this deployment serves, comma-separated."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Static files are content-hashed and served by WhiteNoise from gunicorn.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Content-Security-Policy: only our own origin; assets are vendored, no CDN. The API docs
# pages add a per-request nonce for their inline init code (interfaces.middleware).
CSP_HEADER = CSP_STRICT_POLICY

# Persistent database connections: a new connection per request cost intake 1.4x in-process
# (#20). Each gunicorn worker thread holds one, so the pool is web processes x workers x threads;
# keep it under PostgreSQL's max_connections with room for Celery and admin (docs/DEPLOY.md).
# The health check replaces a connection the database closed (restart, idle timeout) before use.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
