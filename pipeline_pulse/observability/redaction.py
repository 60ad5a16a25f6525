"""The one place secrets are taken out of what leaves the process: log lines and Sentry events.

`SecretRedactor` is a structlog processor: every log line, from structlog or from the standard
library's loggers, passes through it just before it is rendered (see logging_setup). Sentry's
`before_send` calls the same `redact` on each event. It removes:

- the values of keys that name a secret (password, token, secret, API key, Authorization,
  cookie...), at any depth of nested dicts, lists and tuples;
- inside any string (a message, an exception's text, a traceback): credentials written as
  `apikey=...` or `"access_token": "..."`, `Authorization: ...` headers and bearer tokens;
- the one-time secrets of signing in, wherever a URL is written: an OAuth grant code
  (`?code=...`, Sign in with Zoho's callback) and a password-reset link's token
  (`/accounts/reset/<uid>/<token>/`);
- the configured secrets themselves (ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN,
  CURRENCYFREAKS_API_KEY, ZOHO_LOGIN_CLIENT_SECRET, the e-mail server's password),
  wherever they appear inside a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Key names whose values are secrets, whatever their type. Matched anywhere in the key, so
# `access_token`, `X-Api-Key` and `csrfmiddlewaretoken` are caught too.
SENSITIVE_KEY = re.compile(
    r"passw|secret|token|api[_-]?key|authori[sz]ation|cookie|credential|session_?id|signature",
    re.IGNORECASE,
)

# Inside text: `name=value` (query strings, form bodies) or `"name": "value"` (JSON, repr).
_CREDENTIAL_PAIR = re.compile(
    r"""(?ix)
    (\b(?:api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?secret
        |secret|password|passwd|token)\b
     ["']?\s*[:=]\s*["']?)
    (?!\[REDACTED\])[^\s"'&,;})\]]+
    """
)
# `Authorization: Zoho-oauthtoken 1000.abc`, `'Authorization': 'Bearer abc'`.
_AUTHORIZATION = re.compile(
    r"""(?ix)
    (\b(?:proxy-)?authori[sz]ation\b["']?\s*[:=]\s*["']?
     (?!(?:(?:bearer|basic|token|zoho-oauthtoken)\s+)?\[REDACTED\])
     (?:(?:bearer|basic|token|zoho-oauthtoken)\s+)?)
    [^\s"',;})\]]+
    """
)
_BEARER = re.compile(r"(?i)\b(bearer|zoho-oauthtoken)\s+[A-Za-z0-9._~+/=-]{6,}")
# A grant code in a URL's query string: `?code=1000.abc` or `&code=...`.
_QUERY_CODE = re.compile(r"([?&]code=)(?!\[REDACTED\])[^\s&#\"']+")
# A reset link's token (Django swaps it for "set-password" after the first visit).
_RESET_TOKEN = re.compile(r"(/accounts/reset/[^/\s]+/)(?!set-password/|\[REDACTED\])[^/\s\"'?]+")

# A configured value shorter than this is not looked for inside text: it would blank out
# ordinary words. Real client secrets, refresh tokens and API keys are far longer.
MIN_SECRET_LENGTH = 8
# Nested structures deeper than this are replaced whole rather than walked (and a cycle
# cannot recurse forever).
MAX_DEPTH = 12


class SecretRedactor:
    """Redacts secrets from an event dict; also usable on any value through `redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self.secrets = tuple(
            sorted(
                {value for value in secrets if value and len(value) >= MIN_SECRET_LENGTH},
                key=len,
                reverse=True,
            )
        )

    def __call__(self, logger: object, method_name: str, event_dict: Any) -> Any:
        return self.redact(event_dict)

    def redact(self, value: Any, depth: int = 0) -> Any:
        """A copy of `value` with every secret replaced by [REDACTED]."""
        if isinstance(value, str):
            return self.redact_text(value)
        if depth >= MAX_DEPTH:
            return REDACTED if isinstance(value, Mapping | list | tuple | set) else value
        if isinstance(value, Mapping):
            return {
                key: (
                    REDACTED
                    if isinstance(key, str) and SENSITIVE_KEY.search(key) and item is not None
                    else self.redact(item, depth + 1)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set):
            return type(value)(self.redact(item, depth + 1) for item in value)
        if isinstance(value, bytes):
            return self.redact_text(value.decode("utf-8", errors="replace"))
        return value

    def redact_text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
        text = _QUERY_CODE.sub(rf"\1{REDACTED}", text)
        text = _RESET_TOKEN.sub(rf"\1{REDACTED}", text)
        return _CREDENTIAL_PAIR.sub(rf"\1{REDACTED}", text)
