"""Settings for every environment, read from environment variables only (see .env.example)."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.backing_services import backing_services
from pipeline_pulse.logging_setup import logging_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's .env is a convenience; the process environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
# Signs sessions, CSRF tokens and password-reset links: never a value anyone could read in the
# code. Only a DEBUG process may run without one (with a key that says it is insecure); the
# Makefile hands `make demo`, `make test` and the tools a key made once for the checkout.
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))', or set DEBUG=true "
            "for local development (docs/configuration.md)."
        )
    SECRET_KEY = "django-insecure-debug-only"  # noqa: S105  # nosec B105
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
    "simple_history",
    "django_structlog",
    "pipeline_pulse",
    "opportunities",
    "sync",
    "currency",
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics: first and last, so they time everything.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Before SecurityMiddleware, so even its redirects carry X-Request-ID.
    "pipeline_pulse.logging_requests.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request_started / request_finished lines, with the request id and the user's id bound
    # to every line logged in between; after authentication, so it knows the user.
    "django_structlog.middlewares.RequestMiddleware",
    # Every page requires a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user as the author of audited changes made in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
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

# PostgreSQL everywhere. DATABASE_URL names the server (production, CI); unset or empty (as in
# a copied .env.example), an embedded PostgreSQL runs from EMBEDDED_POSTGRES_DIR, started on
# the first connection and stopped when the process that started it exits
# (pipeline_pulse/embedded_postgres).
DATABASE_URL = env("DATABASE_URL", default="")
EMBEDDED_POSTGRES_DIR = Path(env("EMBEDDED_POSTGRES_DIR", default=str(DATA_DIR / "postgres")))
if DATABASE_URL:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…)")
else:
    DATABASES = {
        "default": {
            "ENGINE": "pipeline_pulse.embedded_postgres",
            "NAME": "pipeline_pulse",
            "USER": "postgres",
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Requests one web process serves at once (asgi.py's thread pool); each thread keeps its own
# database connection, so a process holds up to this many. Pages are CPU-bound and share the
# process's interpreter lock: a few threads per process serve 8 clients faster than ten.
WEB_THREADS = env.int("WEB_THREADS", default=4)

# --- Redis, or the local fallbacks -------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
_services = backing_services(
    redis_url=REDIS_URL,
    data_dir=DATA_DIR,
    # Each in a Redis database of its own; by default REDIS_URL's database + 1 and + 2.
    broker_url=env("CELERY_BROKER_URL", default=""),
    channels_url=env("CHANNELS_REDIS_URL", default=""),
)
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
# English only: without the translation machinery every string a page renders skips a
# lookup of the active language. Dates keep en-GB's formats.
USE_I18N = False
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
# Probes and Prometheus call over plain HTTP, inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a one-way door for a whole domain: an operator's decision, not ours.
    "security.W021",
]

# Behind the reverse proxy that TRUST_X_FORWARDED_PROTO trusts, the client's address is the last
# one the proxy appended to X-Forwarded-For; otherwise that header is the client's own word and
# never used (it would let a caller dodge the throttle and the lockout).
_BEHIND_PROXY = env.bool("TRUST_X_FORWARDED_PROTO", default=False)

# --- REST API ----------------------------------------------------------------------------------

# Browsers use their session (with CSRF); integrations a per-user token an Admin created
# (`Authorization: Bearer …`, docs/api.md). Token first: its scheme makes an anonymous call a
# 401 with WWW-Authenticate rather than a 403.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pipeline_pulse.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The one access policy (opportunities.access) for every API view.
    "DEFAULT_PERMISSION_CLASSES": ["opportunities.api.permissions.RolePolicy"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "pipeline_pulse.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Requests per login (a token counts as its login), and per client address for calls
    # without a valid login; over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_THROTTLE_USER", default="1000/hour"),
        "anon": env("API_THROTTLE_ANON", default="100/hour"),
    },
    "NUM_PROXIES": 1 if _BEHIND_PROXY else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pipeline Pulse API",
    "DESCRIPTION": "Deals, pipeline figures, what changed, sync runs, exchange rates and stage "
    'mappings, in the login\'s scope. Errors: `{"error": {"code", "message", "details"}}`. '
    "See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "HealthStatusEnum": "opportunities.models.choices.HealthStatus",
        "OutcomeEnum": "opportunities.models.choices.Outcome",
        "PhaseEnum": "opportunities.models.choices.Phase",
        "RateSourceEnum": "currency.models.RateSource",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pipeline_pulse.api.schema.add_common_errors",
    ],
    # Swagger UI from drf-spectacular-sidecar's files, served as our static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from the public validator: an outside image the CSP refuses, and a leak of the
    # schema's URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
INSTALLED_APPS += ["drf_spectacular_sidecar"]

# --- Login protection (django-axes) --------------------------------------------------------------

# After AXES_FAILURE_LIMIT failed log-ins, a username is locked for AXES_COOLOFF_MINUTES from
# the client address that failed; the login page says so and for how long. Admins unlock early
# under Admin → Axes → Access attempts.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes requires
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pipeline_pulse.lockout.login_lockout_response"
# Usernames only; a failed password is never written to the access log.
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged as warnings
if _BEHIND_PROXY:
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- CORS (the API only) -----------------------------------------------------------------------

# Browser origins allowed to call /api/ from another site, comma-separated, e.g.
# https://bi.example.com. Empty: no cross-origin calls. Pages never answer cross-origin.
INSTALLED_APPS += ["corsheaders"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "corsheaders.middleware.CorsMiddleware",
)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Cross-origin callers authenticate with a token; the session cookie is never sent to them.
CORS_ALLOW_CREDENTIALS = False

# --- Content-Security-Policy (django-csp) ------------------------------------------------------

# Scripts and styles from our own origin, or inline only with the request's nonce
# (`{{ request.csp_nonce }}`); no plugins, no framing, forms post only to us. The live sync
# progress opens a WebSocket to this host (/ws/sync/).
_WEBSOCKET_SCHEME = "wss" if HTTPS else "ws"
_WEBSOCKET_SOURCES = [
    f"{_WEBSOCKET_SCHEME}://{'*' + host if host.startswith('.') else host}:*"
    for host in ALLOWED_HOSTS
    # CSP has no syntax for IPv6 literals; there 'self' alone covers the WebSocket.
    if host != "*" and not host.startswith("[")
]
INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF, *_WEBSOCKET_SOURCES],
        "frame-ancestors": [CSP_NONE],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
    },
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
# A field changed both here and in Zoho to different values: crm_wins (Zoho's value is kept),
# local_wins (the local edit is pushed), newest_wins (the later change wins) or manual (a
# person decides in the admin or on the deal page). Per-field overrides as field=strategy
# pairs, e.g. amount=manual,closing_date=local_wins. An amount conflict whose values differ
# by more than the percentage below is always manual.
ZOHO_CONFLICT_STRATEGY = env("ZOHO_CONFLICT_STRATEGY", default="crm_wins")
ZOHO_CONFLICT_STRATEGY_FIELDS = env("ZOHO_CONFLICT_STRATEGY_FIELDS", default="")
ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT = env.int(
    "ZOHO_CONFLICT_MANUAL_AMOUNT_CHANGE_PERCENT", default=20
)
# Local edits are pushed to Zoho this many seconds after the last one (edits made together
# go in one batch), and before every incremental pull.
ZOHO_PUSH_DEBOUNCE_SECONDS = env.int("ZOHO_PUSH_DEBOUNCE_SECONDS", default=10)
# The pull runs every this many minutes; the first run is a full sync.
ZOHO_SYNC_INTERVAL_MINUTES = env.int("ZOHO_SYNC_INTERVAL_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["zoho-sync-incremental"] = {
    "task": "sync.tasks.zoho_sync_incremental",
    "schedule": timedelta(minutes=ZOHO_SYNC_INTERVAL_MINUTES),
}

# --- Logging -----------------------------------------------------------------------------------

# Every line, through structlog or the standard library, comes out through one handler on
# standard error: JSON (production) or readable console lines, with the request id, secrets
# redacted (pipeline_pulse/logging_setup.py, docs/operations.md).
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="console").strip().lower()
LOGGING_CONFIG = "pipeline_pulse.logging_setup.logging_configure"
LOGGING = logging_settings(
    log_format=LOG_FORMAT,
    level=LOG_LEVEL,
    secrets=[ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, CURRENCYFREAKS_API_KEY],
)
# Tasks queued during a request log its request id (a header django-structlog adds).
DJANGO_STRUCTLOG_CELERY_ENABLED = True

# --- Metrics -----------------------------------------------------------------------------------

# /metrics answers only a scraper that sends `Authorization: Bearer <METRICS_TOKEN>` or
# connects from one of METRICS_ALLOWED_NETWORKS (CIDR list); anyone else gets a 404, and so
# does everyone while neither is set.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        str(ipaddress.ip_network(network.strip(), strict=False))
        for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
        if network.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from None
# Several processes (uvicorn workers, Celery's pool) write their counters to files in this
# folder, and /metrics adds them up. prometheus_client reads the variable itself, when it is
# first imported; the web server and the worker must share the folder.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Errors and traces -------------------------------------------------------------------------

# Both are off until their variable is set; pipeline_pulse/telemetry.py starts them once in
# every process (web, worker, beat, management commands).
SENTRY_DSN = env("SENTRY_DSN", default="")
# Tags errors and traces; the package version when empty.
APP_RELEASE = env("APP_RELEASE", default="")
APP_ENVIRONMENT = env("APP_ENVIRONMENT", default="production")
# An OTLP/HTTP collector's base URL, e.g. http://otel-collector:4318 (traces go to /v1/traces).
OTEL_EXPORTER_OTLP_ENDPOINT = env("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
