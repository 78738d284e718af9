"""The generated per-model tests (tests/utils/generated.py) for the core's traced items and jobs."""

from __future__ import annotations

import itertools

from django.test import TestCase

from assbtrack.jobs.models import Job
from assbtrack.jobs.services import job_submit
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.services import item_quarantine
from tests.utils.factories import PASSWORD, traced_item
from tests.utils.generated import GeneratedModelTests, ModelCase


class TestTracedItems(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=TracedItem, make=lambda project, user: traced_item(project=project, user=user), api="items",
        key_of=lambda item: item.code,
        change=lambda item, user: item_quarantine(item=item, user=user, reason="caked powder", password=PASSWORD),
        page_of=lambda item: f"/items/{item.code}/",
    )


_resistances_ohm = itertools.count(40)


def _job(project, user) -> Job:
    """A conductivity run about an item of ``project`` (other inputs each time: equal inputs reuse a run)."""
    subject = traced_item(project=project, user=user)
    inputs = {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": next(_resistances_ohm)}
    return job_submit(kind="conductivity", inputs=inputs, user=user, subject=subject)


class TestJobs(GeneratedModelTests, TestCase):
    # Job rows record their own life (status, timings, who asked), not a history; the job list is not exported.
    case = ModelCase(
        model=Job, make=_job, api="jobs", key="id", key_of=lambda job: job.pk, history=False, export=False,
        api_writable_by_staff=True, pages=("/jobs/",), page_of=lambda job: f"/jobs/{job.pk}/", partner_pages=True,
    )
