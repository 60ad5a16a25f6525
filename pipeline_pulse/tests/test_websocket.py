"""The WebSocket route is wired through Channels with the session's user."""

import os
import subprocess
import sys
from types import SimpleNamespace

from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from pipeline_pulse.asgi import application
from sync.consumers import CLOSE_UNAUTHENTICATED, SYNC_PROGRESS_GROUP, SyncProgressConsumer


async def test_anonymous_socket_is_closed() -> None:
    communicator = WebsocketCommunicator(SyncProgressConsumer.as_asgi(), "/ws/sync/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_logged_in_user_receives_sync_progress() -> None:
    user = SimpleNamespace(is_authenticated=True)
    communicator = WebsocketCommunicator(SyncProgressConsumer.as_asgi(), "/ws/sync/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    await get_channel_layer().group_send(
        SYNC_PROGRESS_GROUP, {"type": "sync.progress", "run": {"id": 7, "progress": 40}}
    )
    assert await communicator.receive_json_from(timeout=5) == {"id": 7, "progress": 40}
    await communicator.disconnect()


async def test_asgi_application_routes_websockets_and_rejects_foreign_origins() -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/sync/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"localhost")],
    )
    connected, _ = await communicator.connect()
    assert not connected


def test_the_served_application_keeps_startup_objects_out_of_the_collector() -> None:
    """A fresh interpreter, as a uvicorn worker is: nothing else froze anything first."""
    loaded = subprocess.run(  # nosec B603
        [
            sys.executable,
            "-c",
            "import gc, pipeline_pulse.asgi; print(gc.get_freeze_count())",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "pipeline_pulse.settings"},
    )
    # Django and the apps alone are tens of thousands of objects.
    assert int(loaded.stdout.split()[-1]) > 20_000
