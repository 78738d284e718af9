"""The database-alone reference of an export: one SQL query that produces the same columns and nesting.

Built from the list's own serializer, so that it follows the export when the serializer changes: every column
that is a database column (through foreign keys), a slug of a related row or one of the serializer's
``export_expressions`` is read in SQL; every nested list (``many=True``) is a JSON array built in SQL by a
correlated subquery, in the order of the viewset's prefetch, and a nested object a JSON object. Columns the
serializer computes in Python (properties, methods) have no SQL of their own and are left out; their inputs
are read anyway. One row of the reference is one row of the export.

PostgreSQL streams it with ``COPY (…) TO STDOUT (FORMAT csv)``; SQLite reads it on a raw ``sqlite3`` cursor.
"""

from __future__ import annotations

from django.db.models import F, JSONField, OuterRef, Prefetch, Subquery
from django.db.models.functions import JSONObject
from rest_framework import serializers

from assbtrack.api.exports import _orm_path


class JsonArray(Subquery):
    """The rows of a one-column subquery (named ``v``) as one JSON array, in the subquery's order."""

    output_field = JSONField()

    def as_sql(self, compiler, connection, template=None, **extra_context):
        if connection.vendor == "postgresql":
            template = "(SELECT coalesce(json_agg(_j.v), '[]'::json) FROM (%(subquery)s) _j)"
        else:
            template = "(SELECT json_group_array(json(_j.v)) FROM (%(subquery)s) _j)"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def _prefetch_querysets(queryset) -> dict[str, object]:
    found = {}
    for lookup in queryset._prefetch_related_lookups:
        if isinstance(lookup, Prefetch) and lookup.queryset is not None:
            found[lookup.prefetch_to] = lookup.queryset
    return found


def _expressions(serializer, model, queryset=None) -> dict[str, object]:
    """{column: SQL expression} for the serializer's fields that SQL can produce (see the module's doc)."""
    prefetches = _prefetch_querysets(queryset) if queryset is not None else {}
    extra = getattr(serializer, "export_expressions", None) or {}
    base = queryset if queryset is not None else model._default_manager.all()
    columns: dict[str, object] = {}
    for name, field in serializer.fields.items():
        if name in extra:
            columns[name] = extra[name]
        elif isinstance(field, serializers.ListSerializer):
            relation = model._meta.get_field(field.source)
            if not relation.one_to_many:
                continue
            inner = prefetches.get(field.source) or relation.related_model._default_manager.all()
            inner = inner.filter(**{relation.field.name: OuterRef("pk")})
            nested = _expressions(field.child, relation.related_model, inner)
            columns[name] = JsonArray(inner.values(v=_object(nested)))
        elif isinstance(field, serializers.BaseSerializer):
            continue  # a nested single object: none in the lists measured
        elif isinstance(field, serializers.SerializerMethodField | serializers.ManyRelatedField) or field.source == "*":
            continue
        else:
            found = _orm_path(base, field.source_attrs)
            if found is None:
                continue  # computed in Python
            path, _model_field = found
            if isinstance(field, serializers.SlugRelatedField):
                path = f"{path}__{field.slug_field}"
            columns[name] = F(path)
    return columns


def _object(columns: dict[str, object]):
    """A JSON object of the columns; json_build_object takes at most 50 pairs, so larger ones are split."""
    names = list(columns)
    if len(names) <= 50:
        return JSONObject(**columns)
    return JSONObject(**{f"part{i}": JSONObject(**{n: columns[n] for n in names[i:i + 50]})
                         for i in range(0, len(names), 50)})


def same_content_sql(queryset, serializer) -> tuple[str, list, list[str]]:
    """The SQL and parameters of the reference over ``queryset``'s rows, and the columns it produces."""
    columns = _expressions(serializer, queryset.model, queryset)
    aliases = {f"same_{index}": expression for index, expression in enumerate(columns.values())}
    rows = queryset.annotate(**aliases).values_list(*aliases)
    sql, params = rows.query.sql_with_params()
    return sql, list(params), list(columns)
