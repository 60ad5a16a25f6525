"""Logins, the role each acts in, and the permissions each role's group holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from opportunities.models import SignUpDomain
from opportunities.roles import ADMIN_APP_LABELS, ROLE_PERMISSIONS, Role
from pipeline_pulse.models import acting_user

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


def sign_up_domain_save(*, entry: SignUpDomain, user: object) -> SignUpDomain:
    """Save an Admin's sign-up domain (created or changed), recording who did it."""
    entry.domain = entry.domain.strip().lower()
    entry.updated_by = acting_user(user, required=True)  # type: ignore[arg-type]
    if entry.pk is None:
        entry.created_by = entry.updated_by
    entry.full_clean()
    entry.save()
    return entry


class SignInRefused(Exception):
    """Why a Zoho identity gets no login; the message is shown to the person."""


@transaction.atomic
def login_for_zoho_identity(
    *, email: str, email_verified: bool, first_name: str = "", last_name: str = ""
) -> object:
    """The login a Zoho user signs in as, matched by verified e-mail address.

    - An unverified address is refused: anyone can type any address into a Zoho profile.
    - An active login with that address (letter case aside) is the answer; two such logins
      are ambiguous and refused, as is a deactivated one.
    - Without one, a login is created only when an Admin allowed sign-up for the address's
      domain (SignUpDomain), with that entry's role and no password (it signs in with Zoho).
    """
    email = email.strip()
    if not email_verified:
        raise SignInRefused(
            f"Zoho has not verified the e-mail address {email}. Verify it in your Zoho account "
            "(Profile, then Email Address), then sign in again."
        )
    local, _, domain = email.rpartition("@")
    domain = domain.lower()
    if not local or not domain:
        raise SignInRefused("Zoho did not send a usable e-mail address.")
    allowed = SignUpDomain.objects.select_for_update().filter(domain=domain).first()
    # Locked with the domain's row: two sign-ins of a new person cannot both create a login.
    matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:3])
    active = [user for user in matches if user.is_active]
    if len(active) > 1:
        raise SignInRefused(
            f"More than one login has the e-mail address {email}. Ask an Admin to give it to "
            "one login only."
        )
    if active:
        return active[0]
    if matches:
        raise SignInRefused(f"The login with the e-mail address {email} is deactivated.")
    if allowed is None:
        raise SignInRefused(
            f"No Pipeline Pulse login has the e-mail address {email}. Ask an Admin for one."
        )
    user = User(
        username=_free_username(local),
        email=f"{local}@{domain}",
        first_name=first_name[:150],
        last_name=last_name[:150],
        is_staff=False,
        is_active=True,
    )
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=Role(allowed.role).value)])
    return user


def _free_username(local: str) -> str:
    """The address's local part as a username (letters, digits and @.+-_), made unique."""
    base = "".join(ch for ch in local.lower() if ch.isalnum() or ch in "@.+-_")[:140] or "zoho"
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate
