"""The access policy of the REST API: `opportunities.access`, as a DRF permission class.

`RolePolicy` is DRF's default permission class (settings.REST_FRAMEWORK), so every API view
answers to it, including those of apps that may not import this one (`currency`): a view
names the capability its writes need in `write_capability`, a plain string, and reads need
a role. Row scope is the views' business and uses `access` too: a Rep's queryset is its own
deals, and another deal is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from opportunities import access

if TYPE_CHECKING:
    from opportunities.access import Login

# What a write may need; a view without `write_capability` accepts no writes at all.
CAPABILITIES: dict[str, tuple[Callable[[Login], bool], str]] = {
    "edit_deals": (access.can_edit_deals, "Only Admins, Managers and Reps may edit deals."),
    "sync": (access.can_sync, "Only Managers and Admins may start a sync."),
    "administer": (access.is_admin, "Only Admins may change this."),
}
NO_ROLE_MESSAGE = (
    "Your login has no role yet (Admin, Manager, Rep or Viewer); ask an Admin to give it one."
)


class RolePolicy(BasePermission):
    """Authenticated, with a role; unsafe methods need the view's `write_capability` too."""

    message = NO_ROLE_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if access.role_of(user) is None:
            self.message = NO_ROLE_MESSAGE
            return False
        if request.method in SAFE_METHODS or not hasattr(view, (request.method or "").lower()):
            return True  # a method the view lacks gets 405 Method Not Allowed
        capability = getattr(view, "write_capability", None)
        if capability is None:
            self.message = "This resource is read-only."
            return False
        if capability not in CAPABILITIES:
            raise ImproperlyConfigured(f"{type(view).__name__}: unknown capability {capability!r}")
        allowed, self.message = CAPABILITIES[capability]
        return allowed(user)
