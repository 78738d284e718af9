from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "assbtrack.instruments"
    label = "instruments"
    verbose_name = "Instruments and environment"

    def ready(self) -> None:
        from . import importers  # noqa: F401  (registers the equipment import kind)
