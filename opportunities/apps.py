from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = "Opportunities"

    def ready(self) -> None:
        from opportunities import receivers

        # The data migration creates the role groups; this tops up their permissions after
        # every migrate of this app.
        post_migrate.connect(
            receivers.grant_role_permissions, sender=self, dispatch_uid="opportunities.grant"
        )
