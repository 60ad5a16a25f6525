"""Logins and the role they act in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from opportunities.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

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


def author_of(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    """The login to record as author of a change; None for the system or an anonymous user."""
    return user if user is not None and user.is_authenticated else None
