"""The Celery application. Workers run the science and the long operations recorded as jobs.

Start one with ``celery -A assbtrack worker -Q models,plots,imports -B`` (the Makefile does).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev")

app = Celery("assbtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["assbtrack.jobs"])
