"""E-mail: the backend and its server from EMAIL_URL (or the separate EMAIL_* variables), the
sender, and the demo's outbox that keeps a copy of every mail sent."""

from typing import Any

from pipeline_pulse.settings.environment import env

# EMAIL_URL names backend and server in one value, as django-environ reads it:
#   smtp+tls://user:password@smtp.example.com:587   (STARTTLS)
#   smtp+ssl://user:password@smtp.example.com:465   (TLS from the start)
#   smtp://smtp.example.com:25, consolemail://, filemail:///var/mail, memorymail://, dummymail://
# Unset, the EMAIL_* variables below apply; with neither, mail goes to the console (DEBUG) or
# over SMTP to localhost:25.
_EMAIL_URL = env("EMAIL_URL", default="")
_email: dict[str, Any] = env.email_url_config(_EMAIL_URL) if _EMAIL_URL else {}

EMAIL_BACKEND: str = (
    _email.get("EMAIL_BACKEND")
    or env("EMAIL_BACKEND", default="")
    or (
        "django.core.mail.backends.console.EmailBackend"
        if env.bool("DEBUG", default=False) and not env("EMAIL_HOST", default="")
        else "django.core.mail.backends.smtp.EmailBackend"
    )
)
EMAIL_HOST: str = _email.get("EMAIL_HOST") or env("EMAIL_HOST", default="localhost")
EMAIL_PORT: int = _email.get("EMAIL_PORT") or env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER") or env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD") or env(
    "EMAIL_HOST_PASSWORD", default=""
)
EMAIL_USE_TLS: bool = bool(_email.get("EMAIL_USE_TLS")) or env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL: bool = bool(_email.get("EMAIL_USE_SSL")) or env.bool("EMAIL_USE_SSL", default=False)
if _email.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# Seconds an SMTP connection may block a task (Django's default waits for ever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="") or "Pipeline Pulse <pulse@localhost>"
# Django's own error mails come from the same sender unless told otherwise.
SERVER_EMAIL = env("SERVER_EMAIL", default="") or DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", default="[Pipeline Pulse] ")

# The outbox: every mail sent is also kept in the database (the last EMAIL_OUTBOX_KEEP) and
# listed for Admins in the admin under "Sent e-mails", so a newcomer sees what went out.
# On in `make demo`; production leaves it off (mails hold customers' figures).
EMAIL_OUTBOX = env.bool("EMAIL_OUTBOX", default=False)
EMAIL_OUTBOX_KEEP = env.int("EMAIL_OUTBOX_KEEP", default=200)
if EMAIL_OUTBOX:
    EMAIL_OUTBOX_BACKEND = EMAIL_BACKEND  # where the mail really goes
    EMAIL_BACKEND = "pipeline_pulse.mail_outbox.OutboxBackend"

# The site's own address, for the links in mails (no trailing slash).
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")
