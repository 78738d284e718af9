"""Tests: the development settings with fast hashing; the database comes from TEST_DATABASE_URL when set."""

import os

from .base import database_from_env
from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if os.environ.get("TEST_DATABASE_URL"):
    DATABASES = {"default": database_from_env(os.environ["TEST_DATABASE_URL"])}
MEDIA_ROOT = Path(os.environ.get("ASSBTRACK_MEDIA_ROOT", BASE_DIR / "var" / "test-media"))  # noqa: F405
STORAGES = {  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/hour"}}  # noqa: F405

# The Celery worker the suite starts shares this broker (a Redis database of its own, so that a
# development worker on database 0 never takes a test's task) and this database file.
CELERY_BROKER_URL = os.environ.get("ASSBTRACK_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}  # noqa: F405
