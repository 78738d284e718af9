"""Streamed exports of any API list (``?export=csv`` or ``?export=jsonl``) and column choice (``?fields=``).

Rows are read with a server-side cursor in chunks and written one by one, so memory stays flat
whatever the number of rows. Every export is logged (who, endpoint, filter, rows, time), including
one the client abandons half-way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.utils.encoders import JSONEncoder

from assbtrack.access.models import ExportLog

EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _flat(value):
    """CSV cells: nested objects and lists as compact JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, cls=JSONEncoder, separators=(",", ":"))
    return value


class FieldsMixin:
    """``?fields=code,status`` keeps only those columns (unknown names are an error, not ignored)."""

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        wanted = self.request.query_params.get("fields") if getattr(self, "request", None) else None
        if not wanted:
            return serializer
        target = serializer.child if hasattr(serializer, "child") else serializer
        names = [name.strip() for name in wanted.split(",") if name.strip()]
        unknown = sorted(set(names) - set(target.fields))
        if unknown:
            known = ", ".join(target.fields)
            raise ValidationError({"fields": [f"unknown field(s) {', '.join(unknown)}; known: {known}"]})
        for name in list(target.fields):
            if name not in names:
                target.fields.pop(name)
        return serializer


class ExportMixin(FieldsMixin):
    """Adds ``?export=csv|jsonl`` to a list endpoint: the whole filtered list, streamed."""

    def list(self, request, *args, **kwargs):
        fmt = request.query_params.get("export")
        if not fmt:
            return super().list(request, *args, **kwargs)
        if fmt not in EXPORT_FORMATS:
            raise ValidationError({"export": f"use one of {', '.join(EXPORT_FORMATS)}"})
        if request.query_params.get("async") in ("1", "true"):
            return self._export_job(request, fmt)
        from django.http import StreamingHttpResponse

        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(queryset.none(), many=True)
        columns = list(serializer.child.fields)
        log = ExportLog.objects.create(
            user=request.user, endpoint=request.path, query=request.META.get("QUERY_STRING", "")[:2000],
            export_format=fmt, started_at=timezone.now(),
        )
        rows = self._export_rows(queryset, serializer.child, columns, fmt, log)
        response = StreamingHttpResponse(rows, content_type=EXPORT_FORMATS[fmt])
        name = request.path.strip("/").replace("/", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    def _export_job(self, request, fmt: str):
        """``&async=1``: the same export run as an ``api_export`` job; answers 202 with the job's address."""
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.urls import reverse
        from rest_framework import status
        from rest_framework.response import Response

        from assbtrack.jobs.services import job_submit

        # Check the filters and columns now, so a bad request is refused here rather than failing on the worker.
        self.filter_queryset(self.get_queryset())
        self.get_serializer(self.get_queryset().none(), many=True)
        query = request.query_params.copy()
        for name in ("async", "export", "format", "cursor"):
            query.pop(name, None)
        inputs = {"path": request.path, "query": query.urlencode(), "format": fmt, "user_id": request.user.pk,
                  "requested_at": timezone.now().isoformat()}
        try:
            job = job_submit(kind="api_export", inputs=inputs, user=request.user)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        url = request.build_absolute_uri(reverse("jobs:detail", args=[job.pk]))
        response = Response({"job": job.pk, "status": job.status, "url": url,
                             "api_url": request.build_absolute_uri(f"/api/v1/jobs/{job.pk}/")},
                            status=status.HTTP_202_ACCEPTED)
        response["Location"] = url
        return response

    def _export_rows(self, queryset, child, columns, fmt, log) -> Iterator[str]:
        count = 0
        completed = False
        try:
            if fmt == "csv":
                writer = csv.writer(_Echo())
                yield writer.writerow(columns)
            for instance in queryset.iterator(chunk_size=CHUNK_ROWS):
                data = child.to_representation(instance)
                if fmt == "csv":
                    yield writer.writerow([_flat(data.get(column)) for column in columns])
                else:
                    yield json.dumps(data, cls=JSONEncoder, separators=(",", ":")) + "\n"
                count += 1
            completed = True
        finally:
            # Also when the client hangs up half-way: the log says how far it got.
            ExportLog.objects.filter(pk=log.pk).update(rows=count, finished_at=timezone.now(), completed=completed)
