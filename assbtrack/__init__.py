"""assbtrack: traceability from solid-electrolyte batches to module housings."""

from .celery import app as celery_app

__all__ = ("celery_app",)
