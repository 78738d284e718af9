from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "assbtrack.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (registers the model kinds)
