from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "assbtrack.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from assbtrack.api import export_jobs  # noqa: F401  (registers api_export)

        from . import handlers  # noqa: F401  (registers the model kinds)
