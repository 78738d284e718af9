"""Streamed exports of any API list (``?export=csv`` or ``?export=jsonl``) and column choice (``?fields=``).

Rows are read with a server-side cursor in chunks and written one by one, so memory stays flat
whatever the number of rows. Every export is logged (who, endpoint, filter, rows, time), including
one the client abandons half-way.

Two ways to read the rows, with the same output:

- the flat path, when every chosen column is a database column (through foreign keys), a slug of a related
  row, or an expression the serializer names in its ``export_expressions``: the rows are read as tuples
  (``values_list``) and each value goes through its field's ``to_representation``. No model instance and no
  serializer per row: this is what makes exports of millions of rows fast.
- the serializer path for lists with nested records or computed columns (or with ``ASSBTRACK_EXPORT_FLAT``
  off): one instance and ``to_representation`` per row.

Columns computed for many rows at once (``affected`` and ``affected_by``, from one lineage query) are
*block columns*: a serializer names them in ``export_block_columns``, the attribute holding the id they
are computed from in ``export_block_source``, and answers ``export_block_values(ids)``. Both paths read
rows in blocks of ``BLOCK_ROWS`` and compute them once per block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.settings import ISO_8601, api_settings
from rest_framework.utils.encoders import JSONEncoder

from assbtrack.access.models import ExportLog
from assbtrack.access.services import export_logged
from assbtrack.domain.spreadsheet import csv_writer
from assbtrack.jobs.services import job_submit
from assbtrack.web.csv import Echo, streamed_download

EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 2000
PREFETCH_CHUNK_ROWS = 500
BLOCK_ROWS = 500  # rows per write to the response


BLOCK_COLUMN = object()  # a plan step whose value comes from the serializer's export_block_values


def _blocks(rows, size: int) -> Iterator[list]:
    block: list = []
    for row in rows:
        block.append(row)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def _flat(value):
    """CSV cells: nested objects and lists as compact JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, cls=JSONEncoder, separators=(",", ":"))
    return value


def _orm_path(queryset, source_attrs: list[str]) -> tuple[str, object] | None:
    """The ``values_list`` path of a serializer field's source, and the model field it ends on (None for an
    annotation); None when the source is not a database column (a property, a method, a reverse relation)."""
    model = queryset.model
    if len(source_attrs) == 1 and source_attrs[0] in queryset.query.annotations:
        return source_attrs[0], None
    model_field = None
    for index, attr in enumerate(source_attrs):
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        last = index == len(source_attrs) - 1
        if not last:
            if not (model_field.many_to_one or model_field.one_to_one) or not model_field.concrete:
                return None
            model = model_field.related_model
        elif not model_field.concrete or model_field.many_to_many:
            return None
    return "__".join(source_attrs), model_field


def flat_export_plan(queryset, child, columns: list[str]):
    """``(annotations, [(path, convert), ...])`` to read ``columns`` as tuples, or None when a column needs the
    serializer (nested records, methods, properties without an export expression)."""
    expressions = getattr(child, "export_expressions", None) or {}
    block_columns = getattr(child, "export_block_columns", ())
    annotations: dict[str, object] = {}
    plan: list[tuple[str, object]] = []
    for column in columns:
        field = child.fields[column]
        if column in block_columns:
            plan.append((child.export_block_source, BLOCK_COLUMN))
            continue
        if column in expressions:
            alias = f"export_{column}"
            annotations[alias] = expressions[column]
            plan.append((alias, field.to_representation))
            continue
        if isinstance(field, serializers.BaseSerializer | serializers.SerializerMethodField
                      | serializers.ManyRelatedField) or field.source == "*":
            return None
        found = _orm_path(queryset, field.source_attrs)
        if found is None:
            return None
        path, model_field = found
        if isinstance(field, serializers.SlugRelatedField):
            plan.append((f"{path}__{field.slug_field}", None))
        elif isinstance(field, serializers.PrimaryKeyRelatedField):
            plan.append((path, None))
        elif isinstance(field, serializers.RelatedField) or (model_field is not None and model_field.is_relation):
            return None  # a related object rendered by its __str__ or a hyperlink: the serializer knows how
        else:
            plan.append((path, _converter(field)))
    return annotations, plan


def _converter(field):
    """The field's ``to_representation``, with the time zone of a date-time column looked up once per export
    rather than once per value (the same text: ISO 8601 in the current zone, ``Z`` for UTC)."""
    if not isinstance(field, serializers.DateTimeField) or not settings.USE_TZ:
        return field.to_representation
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or str(output_format).lower() != ISO_8601:
        return field.to_representation
    zone = field.timezone if getattr(field, "timezone", None) is not None else field.default_timezone()

    def iso(value):
        if isinstance(value, str) or timezone.is_naive(value):
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso


def job_accepted(request, job):
    """202 Accepted for work handed to a job: the job's page (``Location``) and its API address."""
    from django.urls import reverse
    from rest_framework import status
    from rest_framework.response import Response

    url = request.build_absolute_uri(reverse("jobs:detail", args=[job.pk]))
    response = Response({"job": job.pk, "status": job.status, "url": url,
                         "api_url": request.build_absolute_uri(f"/api/v1/jobs/{job.pk}/")},
                        status=status.HTTP_202_ACCEPTED)
    response["Location"] = url
    return response


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
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(queryset.none(), many=True)
        columns = list(serializer.child.fields)
        name = request.path.strip("/").replace("/", "-")
        return streamed_download(request, self._export_chunks(queryset, serializer.child, columns, fmt),
                                 filename=f"{name}.{fmt}", export_format=fmt, content_type=EXPORT_FORMATS[fmt])

    def _export_job(self, request, fmt: str):
        """``&async=1``: the same export run as an ``api_export`` job; answers 202 with the job's address."""
        # Check the filters and columns now, so a bad request is refused here rather than failing on the worker.
        self.filter_queryset(self.get_queryset())
        self.get_serializer(self.get_queryset().none(), many=True)
        query = request.query_params.copy()
        for name in ("async", "export", "format", "cursor"):
            query.pop(name, None)
        inputs = {"path": request.path, "query": query.urlencode(), "format": fmt,
                  "requested_at": timezone.now().isoformat()}
        try:
            job = job_submit(kind="api_export", inputs=inputs, user=request.user)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return job_accepted(request, job)

    def _export_rows(self, queryset, child, columns, fmt, log: ExportLog) -> Iterator[str]:
        """The export's text, ``log`` finished when it ends (also when the client hangs up half-way)."""
        return export_logged(self._export_chunks(queryset, child, columns, fmt), log=log)

    def _export_chunks(self, queryset, child, columns, fmt) -> Iterator[tuple[str, int]]:
        """The export as ``(text, rows)`` chunks: the CSV header, then one chunk per block of rows."""
        plan = flat_export_plan(queryset, child, columns) if settings.ASSBTRACK_EXPORT_FLAT else None
        if fmt == "csv":
            writer = csv_writer(Echo())
            yield writer.writerow(columns), 0
        block: list[str] = []
        for data in self._export_dicts(queryset, child, columns, plan):
            if fmt == "csv":
                block.append(writer.writerow([_flat(data.get(column)) for column in columns]))
            else:
                block.append(json.dumps(data, cls=JSONEncoder, separators=(",", ":")) + "\n")
            if len(block) == BLOCK_ROWS:  # one write per block of rows, not per row
                yield "".join(block), len(block)
                block = []
        if block:
            yield "".join(block), len(block)

    @staticmethod
    def _export_dicts(queryset, child, columns, plan) -> Iterator[dict]:
        """Each row as the serializer would render it: from tuples on the flat path, from instances otherwise."""
        block_columns = [column for column in columns if column in getattr(child, "export_block_columns", ())]
        if plan is None:
            # nested records are prefetched per chunk: smaller chunks keep the memory of a big export flat
            chunk = PREFETCH_CHUNK_ROWS if queryset._prefetch_related_lookups else CHUNK_ROWS
            for block in _blocks(queryset.iterator(chunk_size=chunk), BLOCK_ROWS):
                if block_columns:
                    # computed once for the block; to_representation then reads them from the serializer
                    child.export_block_values([getattr(instance, child.export_block_source) for instance in block])
                for instance in block:
                    yield child.to_representation(instance)
            return
        annotations, steps = plan
        rows = queryset.annotate(**annotations) if annotations else queryset
        # values_list drops select_related/prefetch (not needed: the joins are in the paths)
        rows = rows.values_list(*[path for path, _ in steps])
        converters = [convert for _, convert in steps]
        block_at = [index for index, convert in enumerate(converters) if convert is BLOCK_COLUMN]
        for block in _blocks(rows.iterator(chunk_size=CHUNK_ROWS), BLOCK_ROWS):
            computed = child.export_block_values([row[block_at[0]] for row in block]) if block_at else {}
            for row in block:
                yield {
                    column: (computed[value][column] if convert is BLOCK_COLUMN
                             else value if value is None or convert is None else convert(value))
                    for column, value, convert in zip(columns, row, converters, strict=True)
                }
