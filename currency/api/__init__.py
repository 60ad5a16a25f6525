"""The REST API of exchange rates: the rates in effect, and Admins' overrides."""
