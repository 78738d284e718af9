"""assbtrack: traceability from solid-electrolyte batches to module housings.

Importing the package loads neither Django nor Celery, so the pure modules (``assbtrack.domain.PURE_MODULES``)
import alone. The Celery application lives in ``assbtrack.celery``: ``celery -A assbtrack`` finds it there, and
Django loads it when the jobs app is ready (``assbtrack/jobs/apps.py``), before any task can be sent.
"""
