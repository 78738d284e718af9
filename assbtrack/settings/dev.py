"""Development: the embedded defaults (SQLite file, local Redis), debug on unless DEBUG says otherwise."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "assbtrack-development-only-key-not-for-production"  # noqa: F405
