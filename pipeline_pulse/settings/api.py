"""The REST API: authentication, the one access policy, errors, throttles, the OpenAPI schema,
and the exports' cap per login."""

from pipeline_pulse.settings.environment import env

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
    "DEFAULT_PARSER_CLASSES": ["pipeline_pulse.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "pipeline_pulse.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "pipeline_pulse.api.throttles.AnonRateThrottle",
        "pipeline_pulse.api.throttles.UserRateThrottle",
    ],
    # Requests per login (a token counts as its login), and per client address for calls
    # without a valid login; over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_THROTTLE_USER", default="1000/hour"),
        "anon": env("API_THROTTLE_ANON", default="100/hour"),
    },
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
        "pipeline_pulse.api.schema.document_query_rules",
    ],
    # Swagger UI from drf-spectacular-sidecar's files, served as our static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from the public validator: an outside image the CSP refuses, and a leak of the
    # schema's URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# The health board's CSV and Excel downloads one login may have in progress at once; each
# holds a request thread while it streams. One more is a 429 with Retry-After.
EXPORTS_PER_LOGIN = env.int("EXPORTS_PER_LOGIN", default=2)
