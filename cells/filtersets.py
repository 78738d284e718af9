"""Filters of the partner API for cells: code, project, status, design choices and ranges of the key numbers."""

import django_filters

from assbtrack.api.filters import ApiFilterSet
from assbtrack.tracing.choices import ItemStatus

from .choices import AnodeType, CellFormat, Connection, ScaleTier, Stacking
from .models import Cell, CycleRecord


class CellFilterSet(ApiFilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    project = django_filters.CharFilter(field_name="item__project__code")
    status = django_filters.ChoiceFilter(field_name="item__status", choices=ItemStatus.choices)
    tier = django_filters.ChoiceFilter(field_name="scale_tier", choices=ScaleTier.choices)
    anode_type = django_filters.ChoiceFilter(choices=AnodeType.choices)
    stacking = django_filters.ChoiceFilter(choices=Stacking.choices)
    cell_format = django_filters.ChoiceFilter(choices=CellFormat.choices)
    connection = django_filters.ChoiceFilter(choices=Connection.choices)
    operating_stack_pressure_mpa = django_filters.RangeFilter(
        help_text="operating_stack_pressure_mpa_min=1&operating_stack_pressure_mpa_max=5"
    )
    nominal_capacity_ah = django_filters.RangeFilter()
    np_ratio = django_filters.RangeFilter()
    specific_energy_wh_per_kg = django_filters.RangeFilter()
    energy_density_wh_per_l = django_filters.RangeFilter()
    retention_at_last = django_filters.RangeFilter(help_text="fraction 0–1 at the last cycle of the latest test")
    retention_at_100 = django_filters.RangeFilter(help_text="fraction 0–1 at cycle 100")
    uses = django_filters.CharFilter(
        field_name="item__edges_in__parent__code", lookup_expr="iexact", distinct=True,
        help_text="cells built with this sheet or foil lot code",
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="lt")

    class Meta:
        model = Cell
        fields = []


class CycleRecordFilterSet(ApiFilterSet):
    test = django_filters.NumberFilter(field_name="test_id")
    cycle_number = django_filters.RangeFilter()

    class Meta:
        model = CycleRecord
        fields = []
