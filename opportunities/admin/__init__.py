"""The opportunities app's admin, one module per part: deals, conflicts, reference data."""

from opportunities.admin import conflicts, deals, preferences, reference

__all__ = ["conflicts", "deals", "preferences", "reference"]
