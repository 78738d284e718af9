"""Tests: the development settings with fast hashing; the database comes from TEST_DATABASE_URL when set."""

import os

from .base import database_from_env, instance_routing
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
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("ASSBTRACK_TEST_API_RATE", "100000/hour")},
}
# The test client's login() authenticates without a request, which django-axes refuses; the lockout
# tests switch it back on.
AXES_ENABLED = False

# The Celery worker the suite starts shares this broker and this database. Both are private to one
# test run (a Redis database and a database name of its own), so that a development worker, or a
# second test run on the same machine, never takes a task or a row of this one.
_RUN = os.getpid()
CELERY_BROKER_URL = os.environ.get("ASSBTRACK_TEST_BROKER_URL", f"redis://127.0.0.1:6379/{1 + _RUN % 15}")
# The shared cache of a test run: its own Redis database (never the broker's of this run) and key prefix.
# Written to the environment so that subprocesses (workers, the two-process throttle test) share it.
os.environ.setdefault("ASSBTRACK_TEST_CACHE_URL", f"redis://127.0.0.1:6379/{1 + (_RUN + 7) % 15}")
os.environ.setdefault("ASSBTRACK_TEST_CACHE_PREFIX", f"assbtrack-test-{_RUN}")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["ASSBTRACK_TEST_CACHE_URL"],
        "KEY_PREFIX": os.environ["ASSBTRACK_TEST_CACHE_PREFIX"],
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{_RUN}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_RUN}"}  # noqa: F405
# The instance name is the test run's own (never a developer's ASSBTRACK_INSTANCE), passed to the worker
# subprocesses as ASSBTRACK_TEST_INSTANCE (tests/utils/workers.py): the name derived from the database would
# differ between this process and a worker opening the test database.
ASSBTRACK_INSTANCE = os.environ.get("ASSBTRACK_TEST_INSTANCE") or f"test-{_RUN}"
CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_QUEUES, CELERY_BEAT_SCHEDULE = instance_routing(ASSBTRACK_INSTANCE)
# Back-off short enough for a test to watch a job retry.
ASSBTRACK_JOB_RETRY_BASE_S = float(os.environ.get("ASSBTRACK_JOB_RETRY_BASE_S", "0.3"))
ASSBTRACK_JOB_RETRY_MAX_S = float(os.environ.get("ASSBTRACK_JOB_RETRY_MAX_S", "2"))
