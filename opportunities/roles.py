"""The four roles of product.md, as Django groups, and what each login may see."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.contrib.auth.models import AnonymousUser, User

    from opportunities.models import CrmUser


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
_ROLE_CACHE_KEY = "_pipeline_pulse_role"
ADMIN_APP_LABELS = ("opportunities", "sync", "currency", "auth", "django_celery_beat")


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


def crm_user_for(user: User | AnonymousUser) -> CrmUser | None:
    """The Zoho user a rep's login stands for, matched by e-mail (case-insensitively)."""
    from opportunities.models import CrmUser

    email = getattr(user, "email", "")
    if not user.is_authenticated or not email:
        return None
    return CrmUser.objects.filter(email__iexact=email).first()


def role_groups_sync(apps: Apps) -> None:
    """Create the four role groups and grant their permissions; safe to run again.

    Runs from the data migration (historical registry) and after every migrate (the live
    one). Grants are only added, never removed, so an admin's extra grants survive.
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations (post_migrate); grant needs
    # them now. Historical app configs have no models module, which create_permissions
    # takes as "nothing to do", hence the temporary flag.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # type: ignore[assignment]
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.value)
        if role is Role.ADMIN:
            permissions = permission_model.objects.filter(
                content_type__app_label__in=ADMIN_APP_LABELS
            )
        else:
            wanted = Q()
            for dotted in ROLE_PERMISSIONS[role]:
                app_label, codename = dotted.split(".")
                wanted |= Q(content_type__app_label=app_label, codename=codename)
            permissions = permission_model.objects.filter(wanted)
        group.permissions.add(*permissions)
