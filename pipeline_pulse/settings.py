"""Settings for every environment, read from environment variables only (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from pipeline_pulse.backing_services import backing_services

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's .env is a convenience; the process environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where local state lives when no external service is configured: the file cache and the
# file-system Celery broker of the embedded mode.
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_htmx",
    "template_partials",
    "channels",
    "pipeline_pulse",
    "opportunities",
    "sync",
    "currency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page requires a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pipeline_pulse.urls"
WSGI_APPLICATION = "pipeline_pulse.wsgi.application"
ASGI_APPLICATION = "pipeline_pulse.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opportunities.context_processors.role",
                "sync.context_processors.freshness",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------

# The embedded default is a SQLite file next to manage.py; production and the tests use
# PostgreSQL through DATABASE_URL.
# An empty DATABASE_URL (as in a copied .env.example) means the embedded default too.
DATABASES = {
    "default": environ.Env.db_url_config(
        env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes a sync page.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, or the local fallbacks -------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
_services = backing_services(redis_url=REDIS_URL, data_dir=DATA_DIR)
CACHES = _services["CACHES"]
CHANNEL_LAYERS = _services["CHANNEL_LAYERS"]
CELERY_BROKER_URL = _services["CELERY_BROKER_URL"]
CELERY_BROKER_TRANSPORT_OPTIONS = _services["CELERY_BROKER_TRANSPORT_OPTIONS"]

# --- Celery ------------------------------------------------------------------------------------

CELERY_TIMEZONE = "Asia/Singapore"
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Limits are generous enough for a full sync of a large org; a task that passes the soft
# limit gets SoftTimeLimitExceeded and can record its failure before the hard kill.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

# --- Auth --------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
# Business dates ("overdue", "this quarter") are Singapore dates; storage is UTC.
TIME_ZONE = "Asia/Singapore"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and the demo run without collectstatic; WhiteNoise then serves from the finders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security (production switches them on with HTTPS=true) ------------------------------------

HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
# Probes are called over plain HTTP by the orchestrator, inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a one-way door for a whole domain: an operator's decision, not ours.
    "security.W021",
]

# --- Django REST framework ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pipeline Pulse API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Logging -----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Pipeline Pulse ----------------------------------------------------------------------------

# A deal is strategic when its SGD amount reaches this, or its account is listed below.
STRATEGIC_AMOUNT_SGD = env.int("STRATEGIC_AMOUNT_SGD", default=1_000_000)
STRATEGIC_ACCOUNTS = env.list("STRATEGIC_ACCOUNTS", default=[])

# --- Health ------------------------------------------------------------------------------------

# Deals read and written per statement when health is recomputed (and when a stage-mapping
# change re-places deals): bounds memory and statement size; a chunk commits on its own.
HEALTH_CHUNK_SIZE = env.int("HEALTH_CHUNK_SIZE", default=2000)

# Date rules change with the calendar: just after midnight Singapore time, rescore every open
# and won deal, then take the day's pipeline snapshot (CELERY_TIMEZONE is Asia/Singapore).
CELERY_BEAT_SCHEDULE["health-daily"] = {
    "task": "opportunities.health_daily",
    "schedule": crontab(hour=0, minute=5),
}
# --- Currency ----------------------------------------------------------------------------------

# CurrencyFreaks (free plan: base USD only, ~1,000 calls a month). Without a key nothing is
# fetched and `fx_refresh --seed` / the scheduled task fall back to the bundled seed rates.
CURRENCYFREAKS_API_KEY = env("CURRENCYFREAKS_API_KEY", default="")
CURRENCYFREAKS_BASE_URL = env("CURRENCYFREAKS_BASE_URL", default="https://api.currencyfreaks.com")
# The currencies fetched on every refresh. SGD (what every amount is shown in) and USD (the
# API's base) are always included.
FX_CURRENCIES = list(
    dict.fromkeys(
        code.strip().upper()
        for code in [
            "SGD",
            "USD",
            *env.list(
                "FX_CURRENCIES",
                default=[
                    *("SGD", "USD", "EUR", "GBP", "INR", "PHP", "MYR"),
                    *("IDR", "THB", "VND", "AUD", "JPY", "CNY", "HKD"),
                ],
            ),
        ]
        if code.strip()
    )
)
# Hours between scheduled refreshes; also how long the rates in effect stay cached.
FX_REFRESH_HOURS = env.int("FX_REFRESH_HOURS", default=6)
CELERY_BEAT_SCHEDULE["currency-fx-rates-refresh"] = {
    "task": "currency.tasks.fx_rates_refresh_task",
    "schedule": timedelta(hours=max(FX_REFRESH_HOURS, 1)),
}
# --- Zoho CRM ----------------------------------------------------------------------------------

# The org's data centre, as full base URLs (http://127.0.0.1:8090 for the local simulator).
ZOHO_ACCOUNTS_URL = env("ZOHO_ACCOUNTS_URL", default="https://accounts.zoho.com")
ZOHO_API_DOMAIN = env("ZOHO_API_DOMAIN", default="https://www.zohoapis.com")
# The self-client's OAuth credentials; the sync refuses to start while any is empty.
ZOHO_CLIENT_ID = env("ZOHO_CLIENT_ID", default="")
ZOHO_CLIENT_SECRET = env("ZOHO_CLIENT_SECRET", default="")
ZOHO_REFRESH_TOKEN = env("ZOHO_REFRESH_TOKEN", default="")
# Zoho CRM's web app, for the deal page's "Open in Zoho" link (the org's data centre, e.g.
# https://crm.zoho.eu).
ZOHO_WEB_URL = env("ZOHO_WEB_URL", default="https://crm.zoho.com")
# The currency of deals Zoho sends without one (the org's home currency).
ZOHO_HOME_CURRENCY = env("ZOHO_HOME_CURRENCY", default="SGD")
# Org-specific API names, overriding the defaults: a JSON object or attr=Api_Name pairs,
# e.g. territory=Sales_Region,kickoff_on=Kickoff_Date.
ZOHO_FIELD_MAP = env("ZOHO_FIELD_MAP", default="")
# Every call has these timeouts; 429, 5xx and network failures are retried with exponential
# backoff and full jitter (Retry-After honoured) up to ZOHO_MAX_ATTEMPTS tries in all.
ZOHO_CONNECT_TIMEOUT_SECONDS = env.float("ZOHO_CONNECT_TIMEOUT_SECONDS", default=5.0)
ZOHO_READ_TIMEOUT_SECONDS = env.float("ZOHO_READ_TIMEOUT_SECONDS", default=30.0)
ZOHO_MAX_ATTEMPTS = env.int("ZOHO_MAX_ATTEMPTS", default=6)
ZOHO_BACKOFF_BASE_SECONDS = env.float("ZOHO_BACKOFF_BASE_SECONDS", default=1.0)
ZOHO_BACKOFF_MAX_SECONDS = env.float("ZOHO_BACKOFF_MAX_SECONDS", default=60.0)
# Access tokens live an hour; a new one is minted this long before the old one expires.
ZOHO_TOKEN_REFRESH_MARGIN_SECONDS = env.int("ZOHO_TOKEN_REFRESH_MARGIN_SECONDS", default=300)
# The pull runs every this many minutes; the first run is a full sync.
ZOHO_SYNC_INTERVAL_MINUTES = env.int("ZOHO_SYNC_INTERVAL_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["zoho-sync-incremental"] = {
    "task": "sync.tasks.zoho_sync_incremental",
    "schedule": timedelta(minutes=ZOHO_SYNC_INTERVAL_MINUTES),
}
