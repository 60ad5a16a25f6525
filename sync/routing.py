"""WebSocket routes of the sync app."""

from django.urls import path

from sync.consumers import SyncProgressConsumer

websocket_urlpatterns = [
    path("ws/sync/", SyncProgressConsumer.as_asgi()),
]
