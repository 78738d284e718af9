"""Out-of-control flags in the partner API: one row per record and rule, scoped to the caller's projects."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from assbtrack.api.viewsets import ScopedReadOnlyViewSet

from .models import ControlFlag, ControlRule


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


def register(router) -> None:
    router.register("control-flags", ControlFlagViewSet, basename="control-flag")
