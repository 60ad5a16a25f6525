"""E-mail: how messages leave (EMAIL_URL), who they come from, and password-reset limits."""

from pipeline_pulse.settings.environment import env

# One URL names the backend and its server: smtp://user:password@host:587 (STARTTLS),
# smtp+ssl://user:password@host:465, or consolemail:// (printed on the console: the default,
# and what `make demo` uses). See django-environ's email_url for the other schemes.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _EMAIL.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
# The sender of every e-mail, e.g. "Pipeline Pulse <pulse@example.com>".
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Pipeline Pulse <pulse@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Password reset ---

# Reset links work once, for this many minutes.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
# Reset requests allowed per hour for one e-mail address, and from one client address. Both
# count whether or not the address belongs to a login, so the answer never tells which do.
PASSWORD_RESET_PER_EMAIL_PER_HOUR = env.int("PASSWORD_RESET_PER_EMAIL_PER_HOUR", default=3)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env.int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", default=10)
