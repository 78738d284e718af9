from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "assbtrack.imports"
    label = "imports"
    verbose_name = "Bulk imports"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the import job kinds in the web process and the worker)
