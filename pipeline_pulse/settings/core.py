"""Django itself: the key, hosts, apps, middleware, templates, logins, language, static files."""

from django.core.exceptions import ImproperlyConfigured

from pipeline_pulse.settings.environment import BASE_DIR, env

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
    # Swagger UI from drf-spectacular-sidecar's files, served as our static files (no CDN).
    "drf_spectacular_sidecar",
    # Login lockout (settings/security.py).
    "axes",
    # CORS for the API only (settings/security.py).
    "corsheaders",
    # Content-Security-Policy (settings/security.py).
    "csp",
    "pipeline_pulse",
    "opportunities",
    "sync",
    "currency",
    "alerts",
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics: first and last, so they time everything.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Before SecurityMiddleware, so even its redirects carry X-Request-ID.
    "pipeline_pulse.observability.request_ids.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy with per-request nonces, right after the security headers.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, as django-cors-headers requires.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on a logged-in user's pages and on the API's answers;
    # after authentication, so it knows the user, and outside the views' own headers.
    "pipeline_pulse.web.cache_headers.private_cache_middleware",
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
    # Login lockout: last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# Business dates ("overdue", "this quarter") are Singapore dates; storage is UTC.
TIME_ZONE = "Asia/Singapore"
# English only: without the translation machinery every string a page renders skips a
# lookup of the active language. Dates keep en-GB's formats.
USE_I18N = False
USE_TZ = True

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
