"""ASGI entry point: HTTP through Django's WSGI handler on a thread pool, WebSockets through
Channels with the session user.

Every page is synchronous (the ORM, templates). Under Django's own ASGI handler each
request runs in a thread of its own and hops between that thread and the event loop around
every middleware (two dozen hops a request), and a persistent database connection opened in
such a thread is never reused (Django ticket #33497): with `DATABASE_CONN_MAX_AGE` above 0
every request leaves one behind. a2wsgi runs each request from start to finish in one thread
of a fixed pool, as a threaded WSGI server would: connections are kept per thread and reused,
and the pages answer faster (`python -m bench web`, docs/benchmarks.md). Streamed responses
(the exports) are sent piece by piece as the thread makes them.
"""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline_pulse.settings")

# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from pipeline_pulse.routing import websocket_urlpatterns  # noqa: E402


def build_application() -> ProtocolTypeRouter:
    """HTTP and WebSockets; the HTTP side loads its middleware from the settings of the moment."""
    return ProtocolTypeRouter(
        {
            "http": WSGIMiddleware(WSGIHandler(), workers=settings.WEB_THREADS),  # type: ignore[arg-type]
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )


application = build_application()

# What is loaded by now (Django, the apps and their modules, the URL patterns) lives as long
# as the process. Out of the collector's reach, a full collection, a pause every thread of
# the process waits out, walks only what requests left behind (docs/benchmarks.md).
gc.freeze()
