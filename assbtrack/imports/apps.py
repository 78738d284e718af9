from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "assbtrack.imports"
    label = "imports"
    verbose_name = "Bulk imports"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        from . import tasks  # noqa: F401  (registers the import job kinds in the web process and the worker)
