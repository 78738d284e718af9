"""Out-of-control flags where people look: a record's page and the dashboard."""

from django import template

from assbtrack.access.selectors import user_is_lab_staff

from ..selectors import control_flags_for_item, control_flags_visible_to, yield_table

register = template.Library()

PANEL_ROWS = 10
YIELD_MONTHS = 3


@register.inclusion_tag("quality/_item_flags.html")
def item_control_flags(item) -> dict:
    return {"flags": control_flags_for_item(item)}


@register.inclusion_tag("quality/_dashboard_panel.html", takes_context=True)
def quality_dashboard_panel(context) -> dict:
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    return {"show": True, "flags": list(control_flags_visible_to(user)[:PANEL_ROWS]),
            "yields": yield_table(user, months=YIELD_MONTHS)}
