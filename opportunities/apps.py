from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate, post_save, pre_delete


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = "Opportunities"

    def ready(self) -> None:
        from currency.signals import currencies_in_use, rates_changed
        from opportunities.services.fx import on_currencies_in_use, on_rates_changed

        # The data migration creates the role groups; this tops up their permissions after
        # every migrate, so models added by later migrations of any app are granted too.
        post_migrate.connect(_grant_role_permissions, sender=self)
        # SGD amounts follow the rates: currency announces changes, deals are ours to update.
        rates_changed.connect(on_rates_changed, dispatch_uid="opportunities.follow_rates")
        currencies_in_use.connect(on_currencies_in_use, dispatch_uid="opportunities.currencies")
        # The role each login acts in is kept in the cache (roles.py): forgotten when a
        # login's groups, or a group's name, change.
        from django.contrib.auth.models import Group, User

        from opportunities.roles import on_group_changed, on_memberships_changed

        m2m_changed.connect(
            on_memberships_changed, sender=User.groups.through, dispatch_uid="opportunities.roles"
        )
        post_save.connect(on_group_changed, sender=Group, dispatch_uid="opportunities.roles")
        pre_delete.connect(on_group_changed, sender=Group, dispatch_uid="opportunities.roles")


def _grant_role_permissions(sender: AppConfig, **kwargs: Any) -> None:
    from django.apps import apps

    from opportunities.services.logins import role_groups_sync

    role_groups_sync(apps)
