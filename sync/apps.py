from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Zoho sync"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from currency.signals import rates_changed
        from opportunities.signals import local_edits_saved
        from sync import checks  # noqa: F401  (registers the system checks)
        from sync.freshness import on_rates_changed, on_run_saved
        from sync.models import SyncRun
        from sync.triggers import on_local_edits_saved

        # Edits saved here go to Zoho shortly after, in one batch.
        local_edits_saved.connect(on_local_edits_saved, dispatch_uid="sync.push_soon")
        # Every page's header shows the runs: a run saved anywhere shows at once.
        post_save.connect(on_run_saved, sender=SyncRun, dispatch_uid="sync.freshness.saved")
        post_delete.connect(on_run_saved, sender=SyncRun, dispatch_uid="sync.freshness.deleted")
        # ... and so does the rates' age.
        rates_changed.connect(on_rates_changed, dispatch_uid="sync.freshness.rates")
