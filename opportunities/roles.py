"""The four roles, as Django groups, and the model permissions each one holds."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class Role(enum.StrEnum):
    """Group names, most privileged first; a login in several groups gets the first."""

    ADMIN = "Admin"
    MANAGER = "Manager"
    REP = "Rep"
    VIEWER = "Viewer"


# Model permissions each role's group holds, as "app_label.codename"; the admin site and the
# role checks both read them. Admins also get every permission of the project's apps.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (),
    Role.MANAGER: (
        "opportunities.view_opportunity",
        "opportunities.change_opportunity",
        "opportunities.view_account",
        "opportunities.view_crmuser",
        "opportunities.view_stagemapping",
        "opportunities.view_phasetransition",
        "opportunities.view_changeevent",
        "opportunities.view_pipelinesnapshot",
        "opportunities.view_healththresholds",
    ),
    Role.REP: (
        "opportunities.view_opportunity",
        "opportunities.change_opportunity",
        "opportunities.view_account",
        "opportunities.view_crmuser",
        "opportunities.view_phasetransition",
        "opportunities.view_changeevent",
    ),
    Role.VIEWER: (
        "opportunities.view_opportunity",
        "opportunities.view_account",
        "opportunities.view_crmuser",
        "opportunities.view_stagemapping",
        "opportunities.view_phasetransition",
        "opportunities.view_changeevent",
        "opportunities.view_pipelinesnapshot",
        "opportunities.view_healththresholds",
    ),
}
_ROLE_CACHE_KEY = "_pipeline_pulse_role"
# pipeline_pulse: API tokens; axes: login lockouts (an Admin unlocks a login early).
ADMIN_APP_LABELS = (
    "opportunities",
    "sync",
    "currency",
    "auth",
    "django_celery_beat",
    "pipeline_pulse",
    "axes",
)


def role_of(user: User | AnonymousUser) -> Role | None:
    """The login's role, or None for an anonymous or unassigned login (who then sees nothing)."""
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    # Cached on the user object: one request asks several times.
    if _ROLE_CACHE_KEY in user.__dict__:
        cached: Role | None = user.__dict__[_ROLE_CACHE_KEY]
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((role for role in Role if role.value in names), None)
    user.__dict__[_ROLE_CACHE_KEY] = role
    return role
