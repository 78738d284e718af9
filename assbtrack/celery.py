"""The Celery application. Workers run the science and the long operations recorded as jobs.

Start one with ``celery -A assbtrack worker -B`` (the Makefile does): without ``-Q`` a worker consumes
this instance's queues, ``<ASSBTRACK_INSTANCE>.models``, ``.plots`` and ``.imports`` (settings
``CELERY_TASK_QUEUES``); ``-Q <instance>.plots`` gives a worker one of them.
"""

import os

from celery import Celery
from celery.signals import worker_ready

from assbtrack.running import WORKER, process_mark

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev")

app = Celery("assbtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["assbtrack.jobs"])


@worker_ready.connect
def _mark_running_worker(**kwargs) -> None:
    """``manage.py restore`` refuses while this mark exists (see assbtrack/running.py)."""
    process_mark(WORKER)
