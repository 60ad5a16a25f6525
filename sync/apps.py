from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Zoho sync"

    def ready(self) -> None:
        from opportunities.signals import local_edits_saved
        from sync import checks  # noqa: F401  (registers the system checks)
        from sync.triggers import on_local_edits_saved

        # Edits saved here go to Zoho shortly after, in one batch.
        local_edits_saved.connect(on_local_edits_saved, dispatch_uid="sync.push_soon")
