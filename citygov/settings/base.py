"""Settings shared by every environment; everything variable comes from env.py."""

from __future__ import annotations

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from citygov.settings.env import (
    BASE_DIR,
    VAR_DIR,
    broker_from_env,
    database_from_env,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    replica_from_env,
)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
# Key of the history anchors (incidents.history): keep it outside the database, and apart from
# SECRET_KEY so that one can rotate without re-sealing every event (verify_history --reanchor).
# Empty: derived from SECRET_KEY.
HISTORY_HMAC_KEY = env_str("HISTORY_HMAC_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "import_export",  # the admin reads spreadsheets (.xlsx) of departments and people through its formats
    # The floors, bottom up (docs/ARCHITECTURE.md); `core` and the project package are no apps.
    "accounts",
    "incidents",
    "dispatch",
    "vitals",
    "operations",
    "interfaces",
    "fixtures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A view failing because the database, broker or cache is down answers 503 + Retry-After.
    "interfaces.outage.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes docs).
    "axes.middleware.AxesMiddleware",
    # Gives each request its CSP nonce; sends the header only where CSP_HEADER is set.
    "interfaces.middleware.ContentSecurityPolicyMiddleware",
]
# Only our own origin; assets are vendored, no CDN. Production sends it (CSP_HEADER);
# development and tests leave it off unless a test switches it on.
CSP_STRICT_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
CSP_HEADER = ""

ROOT_URLCONF = "citygov.urls"
WSGI_APPLICATION = "citygov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "interfaces.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(VAR_DIR / "citygov.sqlite3")}
# A read replica for reports and exports (core.replica): DATABASE_REPLICA_URL, docs/DEPLOY.md.
if (_replica := replica_from_env()) is not None:
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Guardian: no anonymous user row; permissions are only ever granted to real users.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Login throttling (interfaces.lockout): a username + address pair is locked after
# AXES_FAILURE_LIMIT failures, an address trying many usernames after AXES_IP_FAILURE_LIMIT.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_IP_FAILURE_LIMIT = env_int("AXES_IP_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "interfaces.lockout.TieredLockoutHandler"
AXES_RESET_ON_SUCCESS = True
# Proxies in front of gunicorn that append to X-Forwarded-For: 0 when gunicorn is reached directly
# (development), 1 behind compose.yaml's Caddy. The client address is read from the right past them.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "interfaces.lockout.client_ip"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env_str("MEDIA_ROOT", str(VAR_DIR / "media"))
# Photos are never served from MEDIA_URL: interfaces.attachments checks that the viewer may see
# the event first. Behind nginx, set a prefix mapped to MEDIA_ROOT by an `internal` location
# (location /protected-media/ { internal; alias /var/lib/citygov/media/; }) and the view hands
# the bytes over with X-Accel-Redirect; empty, the view streams the file itself.
ATTACHMENT_ACCEL_REDIRECT_PREFIX = env_str("ATTACHMENT_ACCEL_REDIRECT_PREFIX", "")

# The base map (底图) under the city's polygons: a tile URL template for Leaflet, e.g. the city's own
# tile server "https://tiles.example.gov.cn/{z}/{x}/{y}.png" or 天地图 with its key
# "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
# (MAP_TILE_SUBDOMAINS=01234567). Empty: no base map, the city's own polygons with their names.
# MAP_TILE_CRS says which datum the tiles are drawn in: "wgs84" (天地图, most city servers) or "gcj02"
# (高德/腾讯 tiles): points are stored in WGS-84 and shifted for display only (static/js/map.js).
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
MAP_TILE_SUBDOMAINS = env_str("MAP_TILE_SUBDOMAINS", "")
MAP_TILE_CRS = env_str("MAP_TILE_CRS", "wgs84")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "interfaces.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "interfaces.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    # Swagger UI and ReDoc served from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "UrgencyEnum": "incidents.models.Urgency.choices",
        "SourceEnum": "incidents.models.Source.choices",
        "IntakeSourceEnum": "interfaces.api.events.INTAKE_SOURCES",
        "StateEnum": "incidents.models.State.choices",
        "WarningLevelEnum": "vitals.models.Level.choices",
        "WarningStateEnum": "vitals.models.WarningState.choices",
    },
    "TITLE": "citygov API",
    "DESCRIPTION": "Incident dispatch and closed-loop workflow engine (一网统管).",
    "VERSION": "1.0.0",
}

# Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a folder.
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_RESULT_BACKEND = broker_from_env(VAR_DIR / "broker")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The static beat schedule. Periodic work is an idempotent scan, so a missed
# or doubled tick is harmless.
# At most one outbox kick (a send_task waking the worker) per this many seconds per process; the
# drain takes every pending message, and the beat's drain below is the backstop (operations.outbox).
OUTBOX_KICK_SECONDS = env_float("OUTBOX_KICK_SECONDS", 1.0)
CELERY_BEAT_SCHEDULE: dict = {
    # Catches outbox messages whose after-commit kick was lost (broker down, worker killed).
    "drain-outbox": {"task": "dispatch.deliver_outbox", "schedule": env_float("OUTBOX_DRAIN_SECONDS", 60.0)},
    # Webhook retries come due on their own schedule; this picks them up.
    "deliver-webhooks": {"task": "dispatch.deliver_webhooks", "schedule": env_float("WEBHOOK_SCAN_SECONDS", 60.0)},
    # Yellow and red thresholds, auto-escalation of undispatched events.
    "sla-sweep": {"task": "dispatch.sla_sweep", "schedule": env_float("SLA_SWEEP_SECONDS", 60.0)},
    # The report days changed since their daily roll-up: rebuilt (they read live until then).
    "rollup-refresh": {"task": "dispatch.rollup_refresh", "schedule": env_float("ROLLUP_REFRESH_SECONDS", 60.0)},
    # Idempotency keys past their 48 hours (an expired key is already treated as new; this frees the rows).
    # City vital signs: silent sensors (NoData, on the wall clock), the civic-demand stream (hourly, a few
    # minutes past the hour is fine: it counts the last complete hour), readings partitions and roll-up.
    "vitals-nodata": {"task": "vitals.nodata_sweep", "schedule": env_float("VITALS_NODATA_SECONDS", 60.0)},
    "vitals-civic-demand": {"task": "vitals.civic_demand", "schedule": env_float("VITALS_CIVIC_SECONDS", 600.0)},
    "vitals-readings-upkeep": {
        "task": "vitals.readings_upkeep",
        "schedule": env_float("VITALS_UPKEEP_SECONDS", 3600.0),
    },
    "purge-idempotency-keys": {
        "task": "citygov.purge_idempotency_keys",
        "schedule": env_float("IDEMPOTENCY_PURGE_SECONDS", 3600.0),
    },
    # Smart dispatch learns from the week's returns and redispatches (Monday 03:00, Asia/Shanghai).
    "train-dispatch-model": {
        "task": "dispatch.train_dispatch_model",
        "schedule": crontab(minute=0, hour=3, day_of_week=1),
    },
}
# The smart-dispatch model file (joblib, with a .json of its metadata beside it) and how much history it reads.
DISPATCH_MODEL_PATH = env_str("DISPATCH_MODEL_PATH", str(VAR_DIR / "models" / "dispatch.joblib"))
DISPATCH_TRAIN_MAX_EVENTS = env_int("DISPATCH_TRAIN_MAX_EVENTS", 300_000)

# Raw sensor readings are kept this many days (their partitions dropped after); the hourly roll-up stays.
VITALS_RETENTION_DAYS = env_int("VITALS_RETENTION_DAYS", 90)

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The cache holds nothing that intake cannot do without (generation counters,
    # rate-limit windows, replay nonces): with Redis down a call fails fast and
    # returns None instead of raising, and the callers decide what None means.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Shared between web, worker and beat processes, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Photos: judged by content, re-encoded; these limits refuse the rest with a message.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000)
PHOTO_MAX_PER_ACTION = 9
# Above the photo limit so a too-large photo reaches our message, not Django's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Likely duplicates at intake: same category, this close, this recent.
DUPLICATE_RADIUS_METERS = env_int("DUPLICATE_RADIUS_METERS", 150)
DUPLICATE_WINDOW_HOURS = env_int("DUPLICATE_WINDOW_HOURS", 72)

# Outbound webhooks to department systems.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Inbound requests from department systems: how old a signed timestamp may be.
DEPARTMENT_API_MAX_SKEW_SECONDS = 300

# Intake rate limits: events a person (or an API key) may file per minute.
INTAKE_RATE_PER_USER_PER_MINUTE = env_int("INTAKE_RATE_PER_USER_PER_MINUTE", 30)
INTAKE_RATE_PER_KEY_PER_MINUTE = env_int("INTAKE_RATE_PER_KEY_PER_MINUTE", 600)
