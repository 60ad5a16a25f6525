from django.apps import AppConfig


class PipelinePulseConfig(AppConfig):
    """The project package is an app only to own project-wide management commands."""

    name = "pipeline_pulse"
    verbose_name = "Pipeline Pulse"
