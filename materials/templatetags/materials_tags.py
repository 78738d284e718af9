"""The materials panel of the dashboard: batches waiting for QC, and conductivity over time against the specs."""

from django import template

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff
from assbtrack.jobs.plots import project_plot_panels

from .. import selectors
from ..choices import CONDUCTIVITY_TREND

register = template.Library()

PANEL_ROWS = 8


@register.inclusion_tag("materials/_dashboard_panel.html", takes_context=True)
def materials_dashboard_panel(context) -> dict:
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    drafts = list(selectors.batches_visible_to(user).filter(item__status="draft")[:PANEL_ROWS])
    trends = project_plot_panels(CONDUCTIVITY_TREND, "Conductivity over time", projects_visible_to(user))
    return {"show": True, "batches": drafts, "trends": trends, "csrf_token": context.get("csrf_token")}
