"""Logins, the role each acts in, and the permissions each role's group holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from opportunities.roles import ADMIN_APP_LABELS, ROLE_PERMISSIONS, Role

if TYPE_CHECKING:
    from django.apps.registry import Apps

User = get_user_model()


@transaction.atomic
def login_upsert(
    *, username: str, email: str, password: str, role: Role, full_name: str = ""
) -> object:
    """Create or update a login with exactly one role; admins also get the Django admin."""
    first_name, _, last_name = full_name.partition(" ")
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": role is Role.ADMIN,
            "is_active": True,
        },
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    user.groups.set([Group.objects.get(name=role.value)])
    return user


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
