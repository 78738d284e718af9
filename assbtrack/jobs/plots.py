"""Plots drawn by jobs and shown on pages: which drawing is the latest, whether it is up to date, and
submitting a drawing only when its data changed.

A page lists the plots it wants as specs ``(kind, title, inputs, missing_reason)``: ``inputs`` are what the
job would draw now (``None`` when there is not enough data, and ``missing_reason`` says what is missing).
``plot_panels`` pairs each spec with the latest job of its kind; ``plot_submit`` submits a job unless one
with the same inputs exists, so redrawing unchanged data costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, QuerySet
from django.db.models.fields.json import KeyTextTransform

from .handlers import job_handler
from .models import Job, JobStatus
from .services import inputs_sha256, job_submit

PlotSpec = tuple[str, str, "dict[str, Any] | None", str]


@dataclass
class PlotPanel:
    """One plot on a page: what it shows, the latest job that drew it, and whether that job is up to date.

    ``up_to_date`` is ``None`` where the page does not know the current inputs (the dashboard shows the
    latest drawing as it is).
    """

    kind: str
    title: str
    inputs: dict[str, Any] | None
    missing_reason: str = ""
    job: Any = None
    up_to_date: bool | None = False

    @property
    def source_job(self):
        """A job that reused an earlier result shows the earlier job's files."""
        if self.job is None:
            return None
        return self.job.reused_from if self.job.reused_from_id else self.job

    @property
    def summary(self) -> str:
        """The fitted numbers of the drawing, in words (the plot shows them too)."""
        job = self.source_job
        return job_handler(self.kind).summary(getattr(job, "result", None)) if job is not None else ""

    def _file(self, suffix: str) -> str | None:
        job = self.source_job
        if job is None:
            return None
        return next((f.name for f in job.files.all() if f.name.endswith(suffix)), None)

    @property
    def png(self) -> str | None:
        return self._file(".png")

    @property
    def svg(self) -> str | None:
        return self._file(".svg")


def plot_jobs_query() -> QuerySet[Job]:
    """Jobs with what a panel reads (the files, and those of the job a result was reused from)."""
    return Job.objects.select_related("reused_from").prefetch_related("files", "reused_from__files").order_by(
        "-created_at", "-id"
    )


def plot_panels(specs: Iterable[PlotSpec], jobs: Iterable[Job]) -> list[PlotPanel]:
    """Match each wanted plot with its latest job (jobs newest first)."""
    jobs = list(jobs)
    panels = []
    for kind, title, inputs, missing_reason in specs:
        panel = PlotPanel(kind=kind, title=title, inputs=inputs, missing_reason=missing_reason)
        same_kind = [job for job in jobs if job.kind == kind and _same_subject(job, inputs)]
        if same_kind:
            panel.job = same_kind[0]
            if inputs is not None:
                panel.up_to_date = panel.job.inputs_sha256 == inputs_sha256(kind, job_handler(kind).version, inputs)
        panels.append(panel)
    return panels


def _same_subject(job: Job, inputs: dict[str, Any] | None) -> bool:
    """Plots of one kind that come one per route (Figure 2b) match on the route when there is one."""
    if inputs is None or "route" not in inputs:
        return True
    return job.inputs.get("route") == inputs["route"]


def plot_submit(*, kind: str, inputs: dict[str, Any], user, subject=None, force: bool = False) -> Job:
    """Submit a plot job unless one with the same inputs exists (a failed one only comes back with ``force``)."""
    digest = inputs_sha256(kind, job_handler(kind).version, inputs)
    existing = Job.objects.filter(kind=kind, inputs_sha256=digest)
    existing = existing.filter(subject=subject) if subject is not None else existing.filter(subject__isnull=True)
    if force:
        existing = existing.exclude(status=JobStatus.FAILED)
    earlier = existing.order_by("-created_at", "-id").first()
    if earlier is not None and (subject is not None or _newest_like(kind, inputs) in (None, earlier.pk)):
        return earlier
    # A per-project plot is shown as the project's newest drawing (``project_plot_panels``): when the data
    # come back to what an older drawing showed (an exposure study turns a batch's newest measurement into
    # its "after" value), a new row reusing that result becomes the newest, instead of a stale picture.
    return job_submit(kind=kind, inputs=inputs, user=user, subject=subject)


PLOT_IDENTITY_KEYS = ("project", "composition", "route")


def _newest_like(kind: str, inputs: dict[str, Any]) -> int | None:
    """The newest subject-less drawing of ``kind`` for the same project (and composition, route), or None
    for plots that name no project."""
    if "project" not in inputs:
        return None
    identity = {f"inputs__{key}": inputs[key] for key in PLOT_IDENTITY_KEYS if key in inputs}
    return (Job.objects.filter(kind=kind, subject__isnull=True, **identity)
            .order_by("-id").values_list("id", flat=True).first())


def project_plot_panels(kind: str, title: str, projects: QuerySet, *, limit: int = 3) -> list[PlotPanel]:
    """The latest drawing of a per-project plot (its inputs carry the project's code) for the ``limit``
    projects among ``projects`` drawn most recently: two queries and the prefetches, however many projects."""
    latest_ids = list(
        Job.objects.filter(kind=kind, subject__isnull=True)
        .annotate(project_code=KeyTextTransform("project", "inputs"))
        .filter(project_code__in=projects.values("code"))
        .values("project_code")
        .annotate(latest=Max("id"))
        .order_by("-latest")
        .values_list("latest", flat=True)[:limit]
    )
    jobs = sorted(plot_jobs_query().filter(id__in=latest_ids), key=lambda job: -job.pk)
    return [
        PlotPanel(kind=kind, title=f"{title}, {job.inputs.get('project')}", inputs=None, job=job, up_to_date=None)
        for job in jobs
    ]
