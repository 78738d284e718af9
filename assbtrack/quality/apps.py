from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "assbtrack.quality"
    label = "quality"
    verbose_name = "Process quality"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from assbtrack.jobs.handlers import register_model

        from . import catalogue

        for spec in catalogue.MODEL_SPECS:  # its models in the catalogue, before its tasks use them
            register_model(spec)

        from . import design, tasks  # noqa: F401  (register the chart and design-space job kinds, web and worker)
