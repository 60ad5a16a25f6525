"""The currency app: CurrencyFreaks rates, their history and overrides, SGD conversion."""

from django.apps import AppConfig


class CurrencyConfig(AppConfig):
    name = "currency"
    verbose_name = "Currency"

    def ready(self) -> None:
        from currency import checks  # noqa: F401  (registers the system checks)
