"""Reads of imports: the recent uploads, and one upload with its latest job."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ImportRun


def imports_recent(*, limit: int = 30) -> list[ImportRun]:
    return list(
        ImportRun.objects.select_related("project", "uploaded_by", "job").defer("content", "problems",
                                                                               "created_labels")[:limit]
    )


def import_detail_queryset() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("project", "uploaded_by", "imported_by", "job").defer("content")
