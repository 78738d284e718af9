from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "assbtrack.instruments"
    label = "instruments"
    verbose_name = "Instruments and environment"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from . import importers  # noqa: F401  (registers the equipment import kind)
