"""Items and their lineage in the partner API: ``/api/v1/items/{code}/upstream/`` and friends."""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from assbtrack.api.viewsets import ScopedReadOnlyViewSet

from .filtersets import TracedItemFilterSet
from .models import TracedItem
from .selectors import Lineage, lineage_downstream, lineage_upstream


class TracedItemSerializer(serializers.ModelSerializer):
    # read as one SQL expression by the flat export path (assbtrack.api.exports)
    export_expressions = {"quantity_remaining": F("quantity") - F("quantity_used")}
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quantity_remaining = serializers.DecimalField(max_digits=16, decimal_places=6, read_only=True, allow_null=True)

    class Meta:
        model = TracedItem
        fields = [
            "code", "kind", "project", "status", "status_reason", "quantity", "quantity_used",
            "quantity_remaining", "unit", "created_at", "updated_at",
        ]


class LineageNodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    depth = serializers.IntegerField()


class LineageLinkSerializer(serializers.Serializer):
    parent = serializers.CharField()
    child = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True, coerce_to_string=False)
    unit = serializers.CharField()
    role = serializers.CharField()


class LineageSerializer(serializers.Serializer):
    root = serializers.CharField()
    direction = serializers.CharField()
    affected_by = serializers.ListField(child=serializers.CharField(), help_text="held items upstream of the root")
    nodes = LineageNodeSerializer(many=True)
    links = LineageLinkSerializer(many=True)


def lineage_payload(lineage: Lineage, *, affected_by: list[str] | None = None, held_affect: bool = False) -> dict:
    """The trace as the API shows it. ``held_affect``: ``affected_by`` lists the held items of the trace.

    Built for traces of thousands of items: the nodes are sorted once, and amounts are floats already (the
    JSON encoder would make the same floats from Decimals, one callback per link).
    """
    codes = {node.id: node.code for node in lineage.nodes.values()}
    codes[lineage.root.pk] = lineage.root.code
    ordered = lineage.ordered()
    if held_affect:
        affected_by = [node.code for node in ordered if node.is_held]
    return {
        "root": lineage.root.code,
        "direction": lineage.direction,
        "affected_by": affected_by or [],
        "nodes": [
            {"code": code, "kind": kind, "status": status, "status_reason": reason, "depth": depth}
            for _id, code, kind, status, reason, _project, depth in ordered
        ],
        "links": [
            {"parent": codes[parent_id], "child": codes[child_id],
             "amount": None if amount is None else float(amount), "unit": unit, "role": role}
            for parent_id, child_id, amount, unit, role in lineage.links
        ],
    }


class TracedItemViewSet(ScopedReadOnlyViewSet):
    """Every traced item the caller may read, with its upstream and downstream lineage."""

    queryset = TracedItem.objects.select_related("project")
    serializer_class = TracedItemSerializer
    filterset_class = TracedItemFilterSet
    project_field = "project"
    lookup_field = "code"

    @extend_schema(responses=LineageSerializer)
    @action(detail=True)
    def upstream(self, request, code=None):
        """What went into this item: every ancestor once, with the amounts used."""
        item = self.get_object()
        lineage = lineage_upstream(item, user=request.user)
        return Response(lineage_payload(lineage, held_affect=True))

    @extend_schema(responses=LineageSerializer)
    @action(detail=True)
    def downstream(self, request, code=None):
        """What used this item: the recall list if it fails."""
        item = self.get_object()
        return Response(lineage_payload(lineage_downstream(item, user=request.user)))

    @extend_schema(responses=LineageSerializer)
    @action(detail=True)
    def impact(self, request, code=None):
        """The impact report of a held item: everything downstream, affected by its hold."""
        item = self.get_object()
        lineage = lineage_downstream(item, user=request.user)
        return Response(lineage_payload(lineage, affected_by=[item.code] if item.is_held else []))


def register(router) -> None:
    router.register("items", TracedItemViewSet, basename="item")
