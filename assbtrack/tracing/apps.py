from django.apps import AppConfig


class TracingConfig(AppConfig):
    name = "assbtrack.tracing"
    label = "tracing"
    verbose_name = "Traced items and lineage"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from django.urls import register_converter

        from .converters import IdConverter

        register_converter(IdConverter, "id")
