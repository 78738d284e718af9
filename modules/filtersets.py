"""Filters of the modules API: code, project, status, design, pressure, system size, uniformity."""

import django_filters

from assbtrack.api.filters import ApiFilterSet
from assbtrack.tracing.choices import ItemStatus

from .models import HousingDesign, Module, PressureMapResult


class ModuleFilterSet(ApiFilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    project = django_filters.CharFilter(field_name="item__project__code")
    status = django_filters.ChoiceFilter(field_name="item__status", choices=ItemStatus.choices)
    housing_design = django_filters.NumberFilter(field_name="housing_design_id")
    system_energy_kwh_min = django_filters.NumberFilter(field_name="system_energy_kwh", lookup_expr="gte")
    system_energy_kwh_max = django_filters.NumberFilter(field_name="system_energy_kwh", lookup_expr="lte")
    applied_stack_pressure_mpa_min = django_filters.NumberFilter(field_name="applied_stack_pressure_mpa",
                                                                 lookup_expr="gte")
    applied_stack_pressure_mpa_max = django_filters.NumberFilter(field_name="applied_stack_pressure_mpa",
                                                                 lookup_expr="lte")
    assembled_after = django_filters.DateFilter(field_name="assembled_on", lookup_expr="gte")
    assembled_before = django_filters.DateFilter(field_name="assembled_on", lookup_expr="lte")

    class Meta:
        model = Module
        fields = []


class HousingDesignFilterSet(ApiFilterSet):
    project = django_filters.CharFilter(field_name="project__code")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    plate_material = django_filters.CharFilter(field_name="plate_material")
    target_stack_pressure_mpa_min = django_filters.NumberFilter(field_name="target_stack_pressure_mpa",
                                                                lookup_expr="gte")
    target_stack_pressure_mpa_max = django_filters.NumberFilter(field_name="target_stack_pressure_mpa",
                                                                lookup_expr="lte")
    has_springs = django_filters.BooleanFilter(method="filter_springs")
    has_gaskets = django_filters.BooleanFilter(method="filter_gaskets")

    class Meta:
        model = HousingDesign
        fields = []

    def filter_springs(self, queryset, name, value):
        return queryset.filter(spring_count__gt=0) if value else queryset.filter(spring_count=0)

    def filter_gaskets(self, queryset, name, value):
        return queryset.exclude(gasket_material="none") if value else queryset.filter(gasket_material="none")


class PressureMapFilterSet(ApiFilterSet):
    project = django_filters.CharFilter(field_name="scan__design__project__code")
    housing_design = django_filters.NumberFilter(field_name="scan__design_id")
    module = django_filters.CharFilter(field_name="scan__module__item__code", lookup_expr="iexact")
    mean_mpa_min = django_filters.NumberFilter(field_name="mean_mpa", lookup_expr="gte")
    mean_mpa_max = django_filters.NumberFilter(field_name="mean_mpa", lookup_expr="lte")
    coefficient_of_variation_max = django_filters.NumberFilter(field_name="coefficient_of_variation",
                                                               lookup_expr="lte")
    scanned_after = django_filters.DateFilter(field_name="scan__scanned_on", lookup_expr="gte")
    scanned_before = django_filters.DateFilter(field_name="scan__scanned_on", lookup_expr="lte")

    class Meta:
        model = PressureMapResult
        fields = []
