from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "assbtrack.quality"
    label = "quality"
    verbose_name = "Process quality"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the control-chart job kind in the web process and the worker)
