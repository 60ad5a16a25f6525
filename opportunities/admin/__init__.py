"""The opportunities app's admin, one module per part: deals, conflicts, reference data,
per-login settings."""

from opportunities.admin import conflicts, deals, logins, preferences, reference

__all__ = ["conflicts", "deals", "logins", "preferences", "reference"]
