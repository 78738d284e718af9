"""Settings shared by every environment. Everything an operator may change comes from the environment.

Variables (all optional in development; see README "Configuration"):
DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS,
ASSBTRACK_MEDIA_ROOT, ASSBTRACK_RUN_DIR, ASSBTRACK_STATIC_ROOT, ASSBTRACK_JOB_REQUEUE_AFTER_S,
ASSBTRACK_JOB_TIME_LIMIT_S, ASSBTRACK_INSTANCE, ASSBTRACK_JOB_HEARTBEAT_STALE_S, ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S,
ASSBTRACK_JOB_RETRY_BASE_S, ASSBTRACK_JOB_RETRY_MAX_S, ASSBTRACK_JOB_WAIT_MAX_S,
SECRET_KEY_FALLBACKS, ASSBTRACK_TRUSTED_PROXIES, ASSBTRACK_SIGNING_FAILURE_LIMIT, ASSBTRACK_SIGNING_COOLOFF_MIN.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Earlier keys, newest first: what was signed with them (sessions, status signatures) still verifies, and
# is re-signed with SECRET_KEY from then on. Drop a key once nothing signed with it matters any more.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "assbtrack.tracing.admin_site.LabAdminConfig",  # django.contrib.admin with checked object ids
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "assbtrack.access",
    "assbtrack.tracing",
    "assbtrack.jobs",
    "assbtrack.instruments",
    "assbtrack.imports",
    "materials",
    "electrodes",
    "cells",
    "modules",
    "assbtrack.quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into a clear page instead of an error.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Web log-in: after AXES_FAILURE_LIMIT wrong passwords for one user name from one address, that
# pair is locked out for the cool-off time (django-axes). The API uses tokens and its own throttle.
AXES_FAILURE_LIMIT = int(os.environ.get("ASSBTRACK_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("ASSBTRACK_LOGIN_COOLOFF_H", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies in front of assbtrack append to X-Forwarded-For (the documented TLS proxy: 1). The
# client is the N-th address from the right; 0 ignores the header (REMOTE_ADDR). Used by the log-in
# lockout and the API throttle alike (assbtrack.access.client_ip), so a forged header locks out no one.
ASSBTRACK_TRUSTED_PROXIES = int(os.environ.get("ASSBTRACK_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "assbtrack.access.client_ip.client_ip"
# The password re-entered to sign a status change: after this many wrong ones in a row, signing is
# refused for the cool-off time, counted per user in the shared cache (assbtrack.access.signing_limits).
ASSBTRACK_SIGNING_FAILURE_LIMIT = int(os.environ.get("ASSBTRACK_SIGNING_FAILURE_LIMIT", "5"))
ASSBTRACK_SIGNING_COOLOFF_MIN = float(os.environ.get("ASSBTRACK_SIGNING_COOLOFF_MIN", "15"))

# Content-Security-Policy on every response (django-csp): scripts only from assbtrack's own static files,
# never inline (the pages keep their scripts in assbtrack/static/); inline styles are allowed (style=""
# attributes on a few pages, the admin's and the API docs' own). Responses that set their own policy keep
# it (a stored scan is served with a sandboxing one).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

ROOT_URLCONF = "assbtrack.urls"
WSGI_APPLICATION = "assbtrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assbtrack.access.context_processors.roles",
            ],
        },
    },
]

SQLITE_PATH = BASE_DIR / "db.sqlite3"
# SQLite takes the write lock when a transaction starts (IMMEDIATE), so two writers queue instead
# of failing half-way with "database is locked"; WAL lets readers go on while one writes.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}


def database_from_env(url: str | None) -> dict:
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH, "OPTIONS": dict(SQLITE_OPTIONS)}
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        config["CONN_MAX_AGE"] = 0
    elif "postgresql" in config["ENGINE"]:
        # PostgreSQL's JIT compiles a plan when its estimated cost is high, which a recursive lineage walk's
        # always is: a second of compiling for a query that runs in milliseconds. assbtrack's queries are short.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


DATABASES = {"default": database_from_env(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("ASSBTRACK_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "assbtrack" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("ASSBTRACK_MEDIA_ROOT", BASE_DIR / "media"))
# Marks of running web servers and workers (``manage.py restore`` refuses while one is live; assbtrack/running.py).
ASSBTRACK_RUN_DIR = Path(os.environ.get("ASSBTRACK_RUN_DIR", BASE_DIR / "var" / "run"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracing:home"
LOGOUT_REDIRECT_URL = "login"

# Celery: Redis as broker and result store. Tasks acknowledge after they finish and are handed back
# to the queue if the worker dies, so a killed worker loses no job.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task that is not acknowledged within this time is delivered again (Redis has no other way to
# notice a worker that vanished); it must exceed the longest job.
ASSBTRACK_JOB_TIME_LIMIT_S = int(os.environ.get("ASSBTRACK_JOB_TIME_LIMIT_S", "600"))
ASSBTRACK_BROKER_VISIBILITY_TIMEOUT_S = int(
    os.environ.get("ASSBTRACK_BROKER_VISIBILITY_TIMEOUT_S", str(ASSBTRACK_JOB_TIME_LIMIT_S + 300))
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ASSBTRACK_BROKER_VISIBILITY_TIMEOUT_S}
CELERY_TASK_TIME_LIMIT = ASSBTRACK_JOB_TIME_LIMIT_S + 30
CELERY_TASK_SOFT_TIME_LIMIT = ASSBTRACK_JOB_TIME_LIMIT_S
ASSBTRACK_JOB_REQUEUE_AFTER_S = int(os.environ.get("ASSBTRACK_JOB_REQUEUE_AFTER_S", "120"))
# A running job whose heartbeat is older than this is taken to have lost its worker. The worker beats
# from a thread of its own every ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S while the job runs, whether or not
# the job reports progress, so a long silent phase is never mistaken for a dead worker.
ASSBTRACK_JOB_HEARTBEAT_STALE_S = int(os.environ.get("ASSBTRACK_JOB_HEARTBEAT_STALE_S", "60"))
ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S = float(
    os.environ.get("ASSBTRACK_JOB_HEARTBEAT_INTERVAL_S", str(max(0.2, ASSBTRACK_JOB_HEARTBEAT_STALE_S / 4)))
)
# Transient errors (database or broker away) are retried with exponential back-off and jitter: the n-th
# retry waits between half and all of min(max, base * 2**n) seconds; after ASSBTRACK_JOB_MAX_RETRIES the job fails.
ASSBTRACK_JOB_RETRY_BASE_S = float(os.environ.get("ASSBTRACK_JOB_RETRY_BASE_S", "2"))
ASSBTRACK_JOB_RETRY_MAX_S = float(os.environ.get("ASSBTRACK_JOB_RETRY_MAX_S", "60"))
ASSBTRACK_JOB_MAX_RETRIES = int(os.environ.get("ASSBTRACK_JOB_MAX_RETRIES", "4"))
# A job that needs other jobs' results (the module model waits for its cells' energy jobs) waits in the queue
# at most this long before it fails with a message naming the jobs it waited for.
ASSBTRACK_JOB_WAIT_MAX_S = float(os.environ.get("ASSBTRACK_JOB_WAIT_MAX_S", "3600"))
# How often the beat runs the sweep that sends stale jobs again.
ASSBTRACK_JOB_SWEEP_EVERY_S = float(os.environ.get("ASSBTRACK_JOB_SWEEP_EVERY_S", "30"))

# The name of this assbtrack instance. Every task message carries it and every queue is prefixed with it
# ("<instance>.models"), so two instances on one Redis never take each other's jobs; a worker that
# receives a task of another instance refuses it (see assbtrack/jobs/tasks.py). Set it explicitly when
# two instances share a Redis and their databases have the same name.
ASSBTRACK_JOB_QUEUES = ("models", "plots", "imports")


def instance_from_database(database: dict) -> str:
    """A default instance name: the PostgreSQL database name (the same from every machine that reaches it),
    or for SQLite, whose file is on one machine, the file's name and a digest of its full path."""
    name = str(database.get("NAME") or "assbtrack")
    if database["ENGINE"].endswith("sqlite3"):
        path = Path(name).resolve()
        name = f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:40] or "assbtrack"


def instance_routing(instance: str) -> tuple[str, tuple[Queue, ...], dict]:
    """Celery's default queue, the queues a worker consumes when started without -Q, and the beat schedule."""
    queues = tuple(Queue(f"{instance}.{name}") for name in ASSBTRACK_JOB_QUEUES)
    beat = {
        "resend-stale-jobs": {
            "task": "assbtrack.jobs.tasks.jobs_resend_stale", "schedule": ASSBTRACK_JOB_SWEEP_EVERY_S,
            "kwargs": {"instance": instance},
        },
    }
    return f"{instance}.models", queues, beat


ASSBTRACK_INSTANCE = os.environ.get("ASSBTRACK_INSTANCE", "").strip() or instance_from_database(DATABASES["default"])
CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_QUEUES, CELERY_BEAT_SCHEDULE = instance_routing(ASSBTRACK_INSTANCE)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "assbtrack.access.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["assbtrack.api.filters.BoundedFilterBackend"],
    # JSON bodies with limits on number length and nesting (a 400, never a 500); forms and uploads as DRF's
    "DEFAULT_PARSER_CLASSES": [
        "assbtrack.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "assbtrack.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["assbtrack.access.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("ASSBTRACK_API_RATE", "2000/hour")},
    "NUM_PROXIES": ASSBTRACK_TRUSTED_PROXIES,
}
# Exports read rows as tuples where every column is a database column (assbtrack.api.exports); off: always
# through the serializer (slower, same output).
ASSBTRACK_EXPORT_FLAT = os.environ.get("ASSBTRACK_EXPORT_FLAT", "1") != "0"
# The lineage graph is laid out by Graphviz dot (Debian's graphviz; `services.sh graphviz` installs it).
GRAPHVIZ_DOT = os.environ.get("GRAPHVIZ_DOT", "dot")
GRAPHVIZ_TIMEOUT_S = float(os.environ.get("GRAPHVIZ_TIMEOUT_S", "10"))
# A passport bundle whose cycler files add up to more than this is built by a job, not inside the request.
PASSPORT_BUNDLE_INLINE_BYTES = int(os.environ.get("ASSBTRACK_BUNDLE_INLINE_BYTES", str(20 * 1024 * 1024)))
SPECTACULAR_SETTINGS = {
    "TITLE": "assbtrack partner API",
    "DESCRIPTION": "Read-only access to the projects shared with your organisation: materials, films, "
    "cells, modules, lineage and model results. Units are in the field names.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several fields share, so the schema has no duplicate enums.
    "ENUM_NAME_OVERRIDES": {
        "AtmosphereEnum": "materials.choices.Atmosphere",
        "MillingMaterialEnum": "materials.choices.MillingMaterial",
    },
}

# The shared cache: API throttle counts and signing-password failures live here, so that they hold across
# gunicorn workers and hosts. It shares Redis with Celery under its own key prefix; never clear() it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("ASSBTRACK_CACHE_URL", REDIS_URL),
        # one prefix per installation, like the queues: two instances on one Redis never share counts
        "KEY_PREFIX": os.environ.get("ASSBTRACK_CACHE_PREFIX", f"assbtrack-{ASSBTRACK_INSTANCE}"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
