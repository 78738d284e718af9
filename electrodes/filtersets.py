"""Filters of the partner API for films and sheets: code, project, status, kind, process and metric ranges."""

import django_filters

from assbtrack.api.filters import ApiFilterSet
from assbtrack.tracing.choices import ItemStatus

from .choices import FILM_KIND_CHOICES, FilmProcess
from .models import Film, Sheet


class FilmFilterSet(ApiFilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    project = django_filters.CharFilter(field_name="item__project__code")
    status = django_filters.ChoiceFilter(field_name="item__status", choices=ItemStatus.choices)
    kind = django_filters.ChoiceFilter(field_name="item__kind", choices=FILM_KIND_CHOICES)
    process = django_filters.ChoiceFilter(choices=FilmProcess.choices)
    free_standing = django_filters.BooleanFilter()
    areal_capacity_mah_per_cm2 = django_filters.RangeFilter()
    areal_loading_mg_per_cm2 = django_filters.RangeFilter()
    porosity = django_filters.RangeFilter(help_text="fraction 0–1: porosity_min=0.1&porosity_max=0.2")
    thickness_um = django_filters.RangeFilter()
    binder_fraction = django_filters.RangeFilter(help_text="fraction 0–1")
    uses = django_filters.CharFilter(
        field_name="components__source__code", lookup_expr="iexact", distinct=True,
        help_text="films made with this lot or batch code",
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="item__created_at", lookup_expr="lt")

    class Meta:
        model = Film
        fields = []


class SheetFilterSet(ApiFilterSet):
    code = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    project = django_filters.CharFilter(field_name="item__project__code")
    status = django_filters.ChoiceFilter(field_name="item__status", choices=ItemStatus.choices)
    film = django_filters.CharFilter(field_name="film__item__code", lookup_expr="iexact")
    film_kind = django_filters.ChoiceFilter(field_name="film__item__kind", choices=FILM_KIND_CHOICES)

    class Meta:
        model = Sheet
        fields = []
