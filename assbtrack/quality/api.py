"""Out-of-control flags in the partner API: one row per record and rule, scoped to the caller's projects."""

from __future__ import annotations

import django_filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from assbtrack.api.viewsets import HasReadRole, ScopedReadOnlyViewSet

from .models import ControlFlag, ControlRule
from .registry import yield_steps
from .selectors import yield_table


class ControlFlagSerializer(serializers.ModelSerializer):
    code = serializers.SlugRelatedField(source="item", slug_field="code", read_only=True)
    kind = serializers.CharField(source="item.kind", read_only=True)
    series = serializers.CharField(source="series.key", read_only=True)
    series_title = serializers.CharField(source="series.title", read_only=True)
    unit = serializers.CharField(source="series.unit", read_only=True)
    center = serializers.FloatField(source="series.center", read_only=True)
    sigma = serializers.FloatField(source="series.sigma", read_only=True)

    class Meta:
        model = ControlFlag
        fields = ["id", "code", "kind", "rule", "value", "unit", "z", "position", "measured_at", "series",
                  "series_title", "center", "sigma", "job", "flagged_at"]


class ControlFlagFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    rule = django_filters.ChoiceFilter(choices=ControlRule.choices)
    project = django_filters.CharFilter(field_name="series__project__code")
    series = django_filters.CharFilter(field_name="series__key")

    class Meta:
        model = ControlFlag
        fields = ["code", "rule", "project", "series"]


class ControlFlagViewSet(ScopedReadOnlyViewSet):
    """Records that break a Western Electric rule on their QC series' latest control chart."""

    queryset = ControlFlag.objects.select_related("item", "series")
    serializer_class = ControlFlagSerializer
    filterset_class = ControlFlagFilterSet
    project_field = "series__project"
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    lookup_value_regex = "[0-9]+"


class YieldRowSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="batch, film_to_sheet or cell_release")
    step_label = serializers.CharField()
    unit = serializers.CharField(help_text="of amount_in, amount_out and scrap: g, cm² or cells")
    month = serializers.CharField(help_text="YYYY-MM, the month the records were made")
    project = serializers.CharField()
    amount_in = serializers.FloatField()
    amount_out = serializers.FloatField()
    scrap = serializers.FloatField()
    yield_percent = serializers.FloatField(allow_null=True)


class OneTableSchema(AutoSchema):
    """The yield table is one object (``{"results": [...]}``, not paginated), though its route is a list route."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class YieldViewSet(viewsets.ViewSet):
    """Yield and scrap per step, by month and project: batch yield after conditioning (g), film to sheet (usable
    area, cm²), cells released against rejected. Only the caller's projects; ``?project=`` and ``?step=`` filter."""

    permission_classes = [permissions.IsAuthenticated, HasReadRole]
    serializer_class = YieldRowSerializer
    schema = OneTableSchema()

    @extend_schema(responses=inline_serializer("YieldTable", {"results": YieldRowSerializer(many=True)}))
    def list(self, request):
        rows = yield_table(request.user)
        step = request.query_params.get("step")
        if step:
            names = [one.name for one in yield_steps()]
            if step not in names:
                raise ValidationError({"step": f"use one of {', '.join(names)}"})
            rows = [row for row in rows if row["step"] == step]
        project = request.query_params.get("project")
        if project:
            rows = [row for row in rows if row["project"] == project]
        return Response({"results": YieldRowSerializer(rows, many=True).data})


def register(router) -> None:
    router.register("control-flags", ControlFlagViewSet, basename="control-flag")
    router.register("yield", YieldViewSet, basename="yield")
