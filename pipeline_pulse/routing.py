"""WebSocket URL routes of every app, mounted by asgi.py."""

from sync.routing import websocket_urlpatterns as sync_websocket_urlpatterns

websocket_urlpatterns = [*sync_websocket_urlpatterns]
