"""Template context for every page: data freshness for the header, and how progress arrives."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sync.freshness import data_freshness

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"


def live_by_websocket() -> bool:
    """Whether sync progress can reach browsers over /ws/sync/.

    The in-memory channel layer of the embedded mode does not cross processes: the worker's
    events never reach the web server, so pages poll instead.
    """
    layer = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    return bool(layer) and layer != IN_MEMORY_LAYER


def freshness(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)  # none on an error page drawn before the middleware
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: a page that does not show the header (a fragment) costs no query.
    return {
        "freshness": SimpleLazyObject(data_freshness),
        "live_by_websocket": live_by_websocket(),
    }
