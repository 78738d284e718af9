from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "assbtrack.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Imported here, not at the top: models, and the modules using them, load once the app registry is ready.
        # The Celery application, so that tasks sent by the web process and by commands go to assbtrack's broker.
        from assbtrack import celery  # noqa: F401
        from assbtrack.api import bundle, export_jobs  # noqa: F401  (register passport_bundle and api_export)

        from . import (
            handlers,  # noqa: F401  (registers the model kinds)
            tasks,  # noqa: F401  (registers the runner that job_send hands jobs to)
        )
