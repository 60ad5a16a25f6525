"""Live sync progress for the browser: one Channels group that every sync run publishes to."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from opportunities.roles import role_of

SYNC_PROGRESS_GROUP = "sync-progress"

# Close codes for an unauthenticated socket and a login without a role (4000-4999 are free
# for applications).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class SyncProgressConsumer(AsyncJsonWebsocketConsumer):
    """Relays sync progress events to logins with a role, as the sync page shows them;
    read-only, the browser sends nothing."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await database_sync_to_async(role_of)(user) is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(SYNC_PROGRESS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(SYNC_PROGRESS_GROUP, self.channel_name)

    async def sync_progress(self, event: dict[str, Any]) -> None:
        """Handler for group messages of type ``sync.progress``."""
        await self.send_json(event["run"])
