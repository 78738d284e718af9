"""Template helpers of the cells app: unit scaling for display, and the dashboard panel."""

from __future__ import annotations

from django import template

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff
from assbtrack.jobs.plots import project_plot_panels

from ..choices import JOB_RETENTION_TREND, ImportStatus
from ..models import CyclingTest
from ..selectors import cells_visible_to

register = template.Library()

PANEL_ROWS = 8


@register.filter
def times(value, factor):
    """``{{ cell.nominal_capacity_ah|times:1000 }}`` → mAh; empty stays empty."""
    if value is None or value == "":
        return None
    try:
        return float(value) * float(factor)
    except (TypeError, ValueError):
        return None


@register.inclusion_tag("cells/_dashboard_panel.html", takes_context=True)
def cells_dashboard_panel(context) -> dict:
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    visible = cells_visible_to(user).values("pk")
    tests = list(
        CyclingTest.objects.filter(cell__in=visible)
        .exclude(status=ImportStatus.FAILED)
        .select_related("cell__item", "import_job")[:PANEL_ROWS]
    )
    trends = project_plot_panels(JOB_RETENTION_TREND, "Capacity retention over time", projects_visible_to(user))
    return {"show": True, "tests": tests, "cells": list(cells_visible_to(user)[:PANEL_ROWS]), "trends": trends,
            "csrf_token": context.get("csrf_token")}
