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

# --- Mail Pipeline Pulse writes (alerts to Admins) ---

# Put before every subject Pipeline Pulse writes.
EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", default="[Pipeline Pulse] ")
# The site's own address, for the links in mails (no trailing slash).
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

# The outbox: every mail sent is also kept in the database (the last EMAIL_OUTBOX_KEEP) and
# listed for Admins in the admin under "Sent e-mails", so a newcomer sees what went out.
# On in `make demo`; production leaves it off (mails hold customers' figures).
EMAIL_OUTBOX = env.bool("EMAIL_OUTBOX", default=False)
EMAIL_OUTBOX_KEEP = env.int("EMAIL_OUTBOX_KEEP", default=200)
if EMAIL_OUTBOX:
    EMAIL_OUTBOX_BACKEND = EMAIL_BACKEND  # where the mail really goes
    EMAIL_BACKEND = "pipeline_pulse.mail_outbox.OutboxBackend"

# --- The weekly digest ---

# Monday 08:00 Singapore (beat): last week's changes, deals in Danger, slipped deals and the
# quarter's forecast to each Manager and Viewer who has not opted out. False: beat's run
# sends nothing (`manage.py send_digests` still works).
WEEKLY_DIGEST_ENABLED = env.bool("WEEKLY_DIGEST_ENABLED", default=True)
# How many deals the digest lists in Danger and slipped (the biggest in SGD first).
WEEKLY_DIGEST_TOP_DEALS = env.int("WEEKLY_DIGEST_TOP_DEALS", default=10)
