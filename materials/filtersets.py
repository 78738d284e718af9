"""Filters of the materials API: composition, route, class, status, dates, milling time and conductivity ranges."""

import django_filters

from assbtrack.api.filters import ApiFilterSet
from assbtrack.tracing.choices import ItemStatus

from .choices import MaterialRole, SseClass, SynthesisRoute
from .models import ConductivityMeasurement, MaterialLot, SynthesisBatch


class _ItemFilters(ApiFilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(field_name="item__status", choices=ItemStatus.choices)
    project = django_filters.CharFilter(field_name="item__project__code", lookup_expr="exact")
    created_after = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="lt")


class MaterialLotFilterSet(_ItemFilters):
    role = django_filters.ChoiceFilter(choices=MaterialRole.choices)
    chemical_name = django_filters.CharFilter(lookup_expr="icontains")
    formula = django_filters.CharFilter(lookup_expr="iexact")
    supplier = django_filters.CharFilter(lookup_expr="icontains")
    supplier_lot = django_filters.CharFilter(lookup_expr="iexact")
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lt")

    class Meta:
        model = MaterialLot
        fields = ["code", "status", "project", "role", "chemical_name", "formula", "supplier", "supplier_lot"]


class SynthesisBatchFilterSet(_ItemFilters):
    composition = django_filters.CharFilter(lookup_expr="iexact")
    composition_contains = django_filters.CharFilter(field_name="composition", lookup_expr="icontains")
    sse_class = django_filters.ChoiceFilter(choices=SseClass.choices)
    route = django_filters.ChoiceFilter(choices=SynthesisRoute.choices)
    milling_time_min_h = django_filters.NumberFilter(field_name="milling_time_h", lookup_expr="gte")
    milling_time_max_h = django_filters.NumberFilter(field_name="milling_time_h", lookup_expr="lte")
    conductivity_min_ms_per_cm = django_filters.NumberFilter(field_name="conductivity_ms_per_cm", lookup_expr="gte")
    conductivity_max_ms_per_cm = django_filters.NumberFilter(field_name="conductivity_ms_per_cm", lookup_expr="lte")
    heat_treated = django_filters.BooleanFilter(
        field_name="heat_treatment_temperature_c", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = SynthesisBatch
        fields = ["code", "status", "project", "composition", "sse_class", "route"]


class ConductivityMeasurementFilterSet(ApiFilterSet):
    batch = django_filters.CharFilter(field_name="batch__item__code", lookup_expr="iexact")
    composition = django_filters.CharFilter(field_name="batch__composition", lookup_expr="iexact")
    route = django_filters.ChoiceFilter(field_name="batch__route", choices=SynthesisRoute.choices)
    project = django_filters.CharFilter(field_name="batch__item__project__code", lookup_expr="exact")
    temperature_min_c = django_filters.NumberFilter(field_name="temperature_c", lookup_expr="gte")
    temperature_max_c = django_filters.NumberFilter(field_name="temperature_c", lookup_expr="lte")
    conductivity_min_ms_per_cm = django_filters.NumberFilter(field_name="conductivity_ms_per_cm", lookup_expr="gte")
    conductivity_max_ms_per_cm = django_filters.NumberFilter(field_name="conductivity_ms_per_cm", lookup_expr="lte")
    measured_after = django_filters.IsoDateTimeFilter(field_name="measured_at", lookup_expr="gte")
    measured_before = django_filters.IsoDateTimeFilter(field_name="measured_at", lookup_expr="lt")
    current = django_filters.BooleanFilter(field_name="superseded_by", lookup_expr="isnull")

    class Meta:
        model = ConductivityMeasurement
        fields = ["batch", "composition", "route", "project", "current"]
