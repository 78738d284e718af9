from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "assbtrack.quality"
    label = "quality"
    verbose_name = "Process quality"

    def ready(self) -> None:
        from . import design, tasks  # noqa: F401  (register the chart and design-space job kinds, web and worker)
