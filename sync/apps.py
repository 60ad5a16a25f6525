from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Zoho sync"

    def ready(self) -> None:
        from sync import (
            checks,  # noqa: F401  (registers the system checks)
            receivers,  # noqa: F401  (connects the app's receivers)
        )
