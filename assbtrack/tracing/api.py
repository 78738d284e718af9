"""Items and their lineage in the partner API: ``/api/v1/items/{code}/upstream/`` and friends."""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from assbtrack.api.viewsets import ScopedReadOnlyViewSet

from .filtersets import TracedItemFilterSet
from .models import ConfirmedWarning, TracedItem
from .selectors import (
    HeldAncestor,
    Lineage,
    affected_by_codes,
    held_ancestors_for,
    held_ancestors_visible_to,
    lineage_downstream,
    lineage_upstream,
    visible_project_ids_for,
)

AFFECTED_COLUMNS = ("affected", "affected_by")


@extend_schema_field(OpenApiTypes.BOOL)
class AffectedField(serializers.Field):
    """True when something upstream of the item is quarantined or rejected (computed from lineage)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "something upstream of the item is quarantined or rejected")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance):
        return bool(self.parent.held_ancestors_of(instance))


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class AffectedByField(serializers.Field):
    """The codes of the held items upstream; "withheld" stands for those of projects not shared with the reader."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", 'codes of the held items upstream ("withheld": of a project not shared '
                                       "with you)")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance):
        return affected_by_codes(self.parent.held_ancestors_of(instance))


class AffectedSerializerMixin:
    """``affected`` and ``affected_by`` on a serializer of traced items or of their records.

    The held ancestors are looked up for a whole page (or export block) at once: ``prime_held`` with the
    item ids, one query (``held_ancestors_for``), scoped to the reader. The viewset primes the page and the
    detail; the export primes every block of rows, on the flat path (``export_block_values``) and the
    serializer path alike, so both write the same bytes.
    """

    affected_item_attr = "item_id"  # the attribute of an instance holding its traced item's id
    export_block_columns = AFFECTED_COLUMNS

    @property
    def export_block_source(self) -> str:
        return self.affected_item_attr

    def _reader_projects(self):
        request = self.context.get("request") if hasattr(self, "context") else None
        return visible_project_ids_for(getattr(request, "user", None)) if request is not None else None

    def wants_held(self) -> bool:
        return any(column in self.fields for column in AFFECTED_COLUMNS)

    def prime_held(self, item_ids) -> None:
        ids = [item_id for item_id in item_ids if item_id is not None]
        if not ids or not self.wants_held():
            return
        found = held_ancestors_for(ids, visible_project_ids=self._reader_projects())
        self._held = {item_id: found.get(item_id, []) for item_id in ids}

    def held_ancestors_of(self, instance) -> list[HeldAncestor]:
        item_id = getattr(instance, self.affected_item_attr)
        held = getattr(self, "_held", {})
        if item_id not in held:  # not primed (a single record): one query for it
            self.prime_held([item_id])
            held = self._held
        return held[item_id]

    def export_block_values(self, item_ids) -> dict[int, dict]:
        """{item id: {"affected": ..., "affected_by": [...]}} for a block of the flat export."""
        self.prime_held(item_ids)
        held = getattr(self, "_held", {})
        return {
            item_id: {"affected": bool(held.get(item_id)), "affected_by": affected_by_codes(held.get(item_id, []))}
            for item_id in item_ids
        }


class TracedItemSerializer(AffectedSerializerMixin, serializers.ModelSerializer):
    # read as one SQL expression by the flat export path (assbtrack.api.exports)
    export_expressions = {"quantity_remaining": F("quantity") - F("quantity_used")}
    affected_item_attr = "id"
    affected = AffectedField()
    affected_by = AffectedByField()
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quantity_remaining = serializers.DecimalField(max_digits=16, decimal_places=6, read_only=True, allow_null=True)

    class Meta:
        model = TracedItem
        fields = [
            "code", "kind", "project", "status", "status_reason", "quantity", "quantity_used",
            "quantity_remaining", "unit", "created_at", "updated_at", "affected", "affected_by",
        ]


class ConfirmedWarningSerializer(serializers.ModelSerializer):
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ConfirmedWarning
        fields = ["code", "field", "message", "confirmed_by", "confirmed_at"]


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
        held = held_ancestors_visible_to([item.pk], user=request.user)
        return Response(lineage_payload(lineage, affected_by=affected_by_codes(held.get(item.pk, []))))

    @extend_schema(responses=ConfirmedWarningSerializer(many=True))
    @action(detail=True, url_path="confirmed-warnings", pagination_class=None, filter_backends=[])
    def confirmed_warnings(self, request, code=None):
        """The unusual values confirmed when the record was written (N/P below 1, a porous dense film, an
        instrument overdue for calibration), newest first."""
        item = self.get_object()
        rows = item.confirmed_warnings.select_related("confirmed_by")
        return Response(ConfirmedWarningSerializer(rows, many=True).data)

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
