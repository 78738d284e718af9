"""Reads of jobs, scoped like everything else: a partner sees the jobs of items shared with them."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff

from .models import Job, JobStatus


def jobs_visible_to(user: User | AnonymousUser) -> QuerySet[Job]:
    jobs = Job.objects.select_related("subject", "requested_by").prefetch_related("files")
    if user_is_lab_staff(user):
        return jobs
    if not user.is_authenticated:
        return jobs.none()
    return jobs.filter(Q(subject__project__in=projects_visible_to(user).values("pk")) | Q(requested_by=user))


def jobs_active(user: User | AnonymousUser, *, limit: int = 10) -> list[Job]:
    return list(jobs_visible_to(user).filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))[:limit])
