"""Small number formats for the modules pages."""

from __future__ import annotations

import math

from django import template

from assbtrack.access.selectors import user_is_lab_staff

from ..selectors import designs_visible_to, modules_visible_to

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0342 → "3.4"; blank for no value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return ""
    return f"{100 * number:.{int(digits)}f}"


PANEL_ROWS = 6


@register.inclusion_tag("modules/_dashboard_panel.html", takes_context=True)
def modules_dashboard_panel(context) -> dict:
    """Recent modules and the design checks that need attention (two queries)."""
    user = context["request"].user
    if not user_is_lab_staff(user):
        return {"show": False}
    designs = list(designs_visible_to(user)[:50])
    return {
        "show": True,
        "modules": list(modules_visible_to(user)[:PANEL_ROWS]),
        "failing_designs": [design for design in designs if not design.plate_check.ok][:PANEL_ROWS],
    }
