"""One row per uploaded import file: the file itself, its check report, and what the import created."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from assbtrack.access.models import Project


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    CHECKING = "checking", "Being checked"
    INVALID = "invalid", "Has problems"
    CHECKED = "checked", "Checked, ready to import"
    QUEUED = "queued", "Import queued"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    REFUSED = "refused", "Refused on import (nothing written)"
    FAILED = "failed", "Failed (nothing written)"


class ImportRun(models.Model):
    """An uploaded file for one import kind and project. The file is kept in the database (not on a shared disk),
    so that a worker on another machine can read it; the report lists every problem (row, column, reason)."""

    kind = models.CharField("kind", max_length=40, db_index=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="imports", verbose_name="project")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="imports", verbose_name="uploaded by"
    )
    file_name = models.CharField("file", max_length=200)
    file_format = models.CharField("format", max_length=8)
    content = models.BinaryField("file content")
    sha256 = models.CharField("file hash (SHA-256)", max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField("size (bytes)")
    row_count = models.PositiveIntegerField("rows", default=0)
    status = models.CharField("status", max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    problems = models.JSONField("problems", default=list, blank=True)
    problem_count = models.PositiveIntegerField("problems found", default=0)
    created_count = models.PositiveIntegerField("records created", default=0)
    created_labels = models.JSONField("records created (codes)", default=list, blank=True)
    error = models.TextField("error", blank=True)
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="latest job"
    )
    created_at = models.DateTimeField("uploaded at", auto_now_add=True, db_index=True)
    checked_at = models.DateTimeField("checked at", null=True, blank=True)
    imported_at = models.DateTimeField("imported at", null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="imported by",
    )

    class Meta:
        verbose_name = "import"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ImportStatus.IMPORTED) | Q(problem_count=0), name="import_imported_is_clean"
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.pk}: {self.kind} from {self.file_name} ({self.status})"

    @property
    def is_busy(self) -> bool:
        return self.status in (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.QUEUED,
                               ImportStatus.IMPORTING)

    @property
    def can_import(self) -> bool:
        return self.status == ImportStatus.CHECKED

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("imports:detail", args=[self.pk])
