"""The four roles, as Django groups, and the model permissions each one holds."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.cache import cache

from pipeline_pulse.storage.transactions import now_and_on_commit

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
# How long the shared cache keeps a login's role (see `_role_kept`).
ROLE_SECONDS = 300
# pipeline_pulse: API tokens; axes: login lockouts (an Admin unlocks a login early).
ADMIN_APP_LABELS = (
    "opportunities",
    "sync",
    "currency",
    "auth",
    "django_celery_beat",
    "pipeline_pulse",
    "axes",
    "alerts",
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
    role = _role_kept(user)
    user.__dict__[_ROLE_CACHE_KEY] = role
    return role


def roles_changed(user_ids: Iterable[int]) -> None:
    """Forget the kept roles of these logins: their groups changed.

    Now and again on commit: a request reading the groups between the two would keep the
    old role otherwise.
    """
    keys = [_role_key(user_id) for user_id in user_ids]
    if not keys:
        return
    now_and_on_commit(lambda: cache.delete_many(keys))


def _role_kept(user: User | AnonymousUser) -> Role | None:
    """The role from the shared cache, read from the groups (and kept) when it is not there.

    Every page asks for the role; the cache answers in a fraction of the groups query.
    Group changes made through Django forget the entry at once (signals in apps.py); one
    made outside it (raw SQL) shows within ROLE_SECONDS. The account's creation time is
    kept with the role: a re-created database reuses ids.
    """
    key, joined = _role_key(user.pk), str(getattr(user, "date_joined", ""))
    kept = cache.get(key)
    if kept is not None and kept[0] == joined:
        return Role(kept[1]) if kept[1] else None
    names = set(user.groups.values_list("name", flat=True))
    role = next((role for role in Role if role.value in names), None)
    cache.set(key, (joined, role.value if role else ""), ROLE_SECONDS)
    return role


def _role_key(user_id: object) -> str:
    return f"roles:v1:{user_id}"
