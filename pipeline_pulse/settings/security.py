"""HTTPS, proxies and the client's address, login lockout, CORS and Content-Security-Policy.

Production switches TLS on with HTTPS=true; behind a TLS proxy, TRUST_X_FORWARDED_PROTO=true.
"""

from datetime import timedelta

from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF

from pipeline_pulse.settings.core import ALLOWED_HOSTS
from pipeline_pulse.settings.environment import env

HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# A failed CSRF check: the site's page with a way back, JSON under /api/.
CSRF_FAILURE_VIEW = "pipeline_pulse.api.errors.csrf_failure"
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

# Behind the reverse proxy that TRUST_X_FORWARDED_PROTO trusts, the client's address is the entry
# that proxy appended to X-Forwarded-For (the right-most); otherwise that header is the client's
# own word and never used (it would let a caller dodge the throttle and the lockout). One
# function reads it for the lockout, the API throttles and /metrics
# (pipeline_pulse/web/client_address.py).
_BEHIND_PROXY = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
TRUSTED_PROXY_COUNT = 1 if _BEHIND_PROXY else 0

# --- Login protection (django-axes) ---

# After AXES_FAILURE_LIMIT failed log-ins, a username is locked for AXES_COOLOFF_MINUTES from
# the client address that failed; the login page says so and for how long. Admins unlock early
# under Admin → Axes → Access attempts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pipeline_pulse.web.lockout.login_lockout_response"
# Usernames only; a failed password is never written to the access log.
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged as warnings
# The address half of the lock, as the throttles and /metrics read it.
AXES_CLIENT_IP_CALLABLE = "pipeline_pulse.web.client_address.client_address"

# --- CORS (the API only) ---

# Browser origins allowed to call /api/ from another site, comma-separated, e.g.
# https://bi.example.com. Empty: no cross-origin calls. Pages never answer cross-origin.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Cross-origin callers authenticate with a token; the session cookie is never sent to them.
CORS_ALLOW_CREDENTIALS = False

# --- Content-Security-Policy (django-csp) ---

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
