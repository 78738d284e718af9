import django_filters

from assbtrack.api.filters import ApiFilterSet

from .choices import ItemKind, ItemStatus
from .models import TracedItem


class TracedItemFilterSet(ApiFilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")
    code_prefix = django_filters.CharFilter(field_name="code", lookup_expr="istartswith")
    kind = django_filters.ChoiceFilter(choices=ItemKind.choices)
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)
    project = django_filters.CharFilter(field_name="project__code", lookup_expr="exact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = TracedItem
        fields = ["code", "code_prefix", "kind", "status", "project", "created_after", "created_before"]
