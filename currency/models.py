"""Exchange rates from CurrencyFreaks, their history and the admins' overrides."""

from django.db import models


class RateSource(models.TextChoices):
    """Where a rate came from; shown next to every converted amount."""

    API = "api", "CurrencyFreaks API"
    MANUAL = "manual", "Manual override"
    SEED = "seed", "Seed data"
