"""The electrodes panel of the dashboard: films still being rolled (no result yet), newest first."""

from django import template
from django.db.models import Prefetch

from assbtrack.access.selectors import user_is_lab_staff

from ..models import CalenderingPass
from ..selectors import films_visible_to

register = template.Library()

PANEL_ROWS = 8


@register.inclusion_tag("electrodes/_dashboard_panel.html", takes_context=True)
def electrodes_dashboard_panel(context) -> dict:
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    open_films = list(
        films_visible_to(user)
        .filter(thickness_um__isnull=True)
        .prefetch_related(None)
        .prefetch_related(Prefetch("passes", queryset=CalenderingPass.objects.order_by("pass_number")))[:PANEL_ROWS]
    )
    return {"show": True, "films": open_films}
