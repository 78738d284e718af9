"""WSGI entry point for gunicorn: ``gunicorn assbtrack.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assbtrack.settings.dev")
application = get_wsgi_application()
