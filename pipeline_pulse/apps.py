from django.apps import AppConfig


class PipelinePulseConfig(AppConfig):
    """The project package is an app to own project-wide management commands, and to start
    the optional error reporting and tracing once in every process that sets Django up."""

    name = "pipeline_pulse"
    verbose_name = "Pipeline Pulse"

    def ready(self) -> None:
        from pipeline_pulse.observability.telemetry import telemetry_init

        telemetry_init()
