"""What the opportunities app does when another app, or Django, announces something: every
receiver of the app, connected here (OpportunitiesConfig.ready imports this module).

- currency.signals.rates_changed: SGD amounts follow the rates, in the same transaction
  (services/fx.py);
- currency.signals.currencies_in_use: every currency a live deal is in, so each gets a rate;
- post_migrate: the role groups' permissions are topped up, so models added by later
  migrations of any app are granted too (services/logins.py);
- a login's groups, or a group's name, changing: the role kept in the cache for each login
  concerned is forgotten (roles.py).
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from currency.signals import RateChange, currencies_in_use, rates_changed
from opportunities.models import Opportunity
from opportunities.roles import roles_changed
from opportunities.services.fx import opportunities_follow_rates
from opportunities.services.logins import role_groups_sync


@receiver(rates_changed, dispatch_uid="opportunities.follow_rates")
def follow_rates(sender: object, *, change: RateChange, **kwargs: Any) -> int:
    return opportunities_follow_rates(change=change)


@receiver(currencies_in_use, dispatch_uid="opportunities.currencies")
def deal_currencies(sender: object, **kwargs: Any) -> set[str]:
    return Opportunity.objects.live().currencies()


def grant_role_permissions(sender: AppConfig, **kwargs: Any) -> None:
    """post_migrate of this app (connected by OpportunitiesConfig.ready, which knows it)."""
    from django.apps import apps

    role_groups_sync(apps)


@receiver(post_save, sender=Group, dispatch_uid="opportunities.roles.saved")
@receiver(pre_delete, sender=Group, dispatch_uid="opportunities.roles.deleted")
def forget_roles_of_group(sender: object, instance: Group, **kwargs: Any) -> None:
    """A group renamed or about to be deleted: its members' roles."""
    roles_changed(list(instance.user_set.values_list("pk", flat=True)))


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="opportunities.roles.members")
def forget_roles_of_members(
    sender: object,
    instance: User | Group,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """m2m_changed of User.groups: the roles of the logins whose groups changed."""
    if not reverse:  # user.groups.add/remove/set/clear
        if action in ("post_add", "post_remove", "post_clear"):
            roles_changed([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): its members, while still there
        forget_roles_of_group(sender, instance)  # type: ignore[arg-type]
    elif action in ("post_add", "post_remove"):
        roles_changed(list(pk_set or ()))
