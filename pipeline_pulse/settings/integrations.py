"""The two outside systems: CurrencyFreaks (exchange rates) and Zoho CRM (deals)."""

from pipeline_pulse.settings.environment import env

# --- CurrencyFreaks ---

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

# --- Zoho CRM ---

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

# --- Sign in with Zoho ---

# A "Server-based Application" client registered in Zoho's API console (api-console.zoho.com)
# with the redirect URI https://<this host>/accounts/zoho/callback/. The login page shows
# "Sign in with Zoho" only when both are set. It talks to ZOHO_ACCOUNTS_URL, the same data
# centre as the sync. Its own client: the sync's self-client cannot redirect a browser.
ZOHO_LOGIN_CLIENT_ID = env("ZOHO_LOGIN_CLIENT_ID", default="")
ZOHO_LOGIN_CLIENT_SECRET = env("ZOHO_LOGIN_CLIENT_SECRET", default="")
