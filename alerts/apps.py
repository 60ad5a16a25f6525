"""The alerts app: Admins are told by e-mail when something needs them, once per condition."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts to Admins"
