"""WSGI entry point for gunicorn: ``gunicorn assbtrack.wsgi`` (``runserver`` loads it too).

Each web process marks itself as running (``assbtrack/running.py``) so that ``manage.py restore`` refuses while a
server could still write to the database it replaces.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev")
application = get_wsgi_application()

from assbtrack.running import WEB, process_mark  # noqa: E402  (settings must be configured first)

process_mark(WEB)
