"""The materials panel of the dashboard: batches waiting for QC, with why they cannot be released yet."""

from django import template

from assbtrack.access.selectors import user_is_lab_staff

from .. import selectors

register = template.Library()

PANEL_ROWS = 8


@register.inclusion_tag("materials/_dashboard_panel.html", takes_context=True)
def materials_dashboard_panel(context) -> dict:
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    drafts = list(selectors.batches_visible_to(user).filter(item__status="draft")[:PANEL_ROWS])
    return {"show": True, "batches": drafts}
