"""The WebSocket route is wired through Channels with the session's user."""

import os
import subprocess
import sys

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from opportunities.roles import Role
from opportunities.tests.factories import UserFactory
from pipeline_pulse.asgi import application
from sync.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    SYNC_PROGRESS_GROUP,
    SyncProgressConsumer,
)


async def test_anonymous_socket_is_closed() -> None:
    communicator = WebsocketCommunicator(SyncProgressConsumer.as_asgi(), "/ws/sync/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


@pytest.mark.django_db(transaction=True)
async def test_a_login_with_a_role_receives_sync_progress() -> None:
    user = await database_sync_to_async(UserFactory.create)(role=Role.REP)
    communicator = WebsocketCommunicator(SyncProgressConsumer.as_asgi(), "/ws/sync/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    await get_channel_layer().group_send(
        SYNC_PROGRESS_GROUP, {"type": "sync.progress", "run": {"id": 7, "progress": 40}}
    )
    assert await communicator.receive_json_from(timeout=5) == {"id": 7, "progress": 40}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_login_without_a_role_is_refused() -> None:
    user = await database_sync_to_async(UserFactory.create)()
    communicator = WebsocketCommunicator(SyncProgressConsumer.as_asgi(), "/ws/sync/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_FORBIDDEN


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
