"""A job row for every model run and long operation, written before its Celery task is sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from assbtrack.tracing.models import TracedItem


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Job(models.Model):
    kind = models.CharField("kind", max_length=40, db_index=True)
    queue = models.CharField("queue", max_length=20)
    inputs = models.JSONField("inputs")
    inputs_sha256 = models.CharField("inputs hash (SHA-256)", max_length=64, db_index=True)
    status = models.CharField("status", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_percent = models.PositiveSmallIntegerField("progress (%)", default=0)
    progress_message = models.CharField("progress message", max_length=200, blank=True)
    result = models.JSONField("result", null=True, blank=True)
    error = models.TextField(
        "error", blank=True,
        help_text="What went wrong, for the person who asked and everyone who may see the job: a plain message, "
        "never internal exception text.",
    )
    error_detail = models.TextField(
        "error detail (staff)", blank=True,
        help_text="The exception and traceback behind an unexpected failure: shown to lab staff only.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    subject = models.ForeignKey(
        TracedItem, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs", verbose_name="item"
    )
    reused_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reuses",
        help_text="The earlier job with the same inputs whose result this job reuses.",
    )
    attempts = models.PositiveSmallIntegerField("attempts", default=0)
    worker = models.CharField(
        "worker", max_length=200, blank=True,
        help_text="The Celery worker (node name, e.g. celery@host) that last claimed the job.",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField("sent to a worker at", null=True, blank=True)
    started_at = models.DateTimeField("started at", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "last sign of life", null=True, blank=True,
        help_text="Written by the worker every few seconds while the job runs (and at every progress report); a "
        "running job whose heartbeat is older than the stale window is taken to have lost its worker.",
    )
    finished_at = models.DateTimeField("finished at", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "sent_at"], name="job_status_sent")]
        constraints = [
            models.CheckConstraint(condition=Q(progress_percent__lte=100), name="job_progress_le_100"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("jobs:detail", args=[self.pk])


def job_file_path(instance: JobFile, filename: str) -> str:
    return f"jobs/{instance.job_id}/{filename}"


class JobFile(models.Model):
    """A file a job produced (a plot as PNG and SVG, an export, a report)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    name = models.CharField("name", max_length=120)
    file = models.FileField("file", upload_to=job_file_path, max_length=300)
    size_bytes = models.PositiveBigIntegerField("size (bytes)", default=0)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="jobfile_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.name.lower().endswith((".png", ".svg"))
