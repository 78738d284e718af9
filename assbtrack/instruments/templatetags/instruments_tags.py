"""Template tags of the instruments app: the exposure of an item, calibration badges, the dashboard panel."""

from __future__ import annotations

from django import template

from assbtrack.access.selectors import user_is_lab_staff

from .. import selectors

register = template.Library()


@register.simple_tag
def item_exposure(item):
    """The item's exposure (two queries: its events, then its rooms' readings)."""
    return selectors.item_exposure(item)


@register.simple_tag(takes_context=True)
def storage_editable(context) -> bool:
    """Technicians and scientists open and close items; others only read the exposure."""
    request = context.get("request")
    return bool(request is not None and user_is_lab_staff(request.user))


@register.inclusion_tag("instruments/_calibration_badge.html")
def calibration_badge(equipment, on=None):
    """The equipment's name with its calibration state on ``on`` (the day of use); uses prefetched calibrations."""
    if equipment is None:
        return {"equipment": None}
    return {"equipment": equipment, "state": selectors.equipment_calibration_state(equipment, on)}


@register.inclusion_tag("instruments/_dashboard_panel.html", takes_context=True)
def instruments_dashboard_panel(context) -> dict:
    request = context.get("request")
    if request is None or not user_is_lab_staff(request.user):
        return {"show": False}
    return {
        "show": True,
        "overdue": selectors.equipment_overdue()[:8],
        "flags": selectors.flags_recent(limit=8),
        "records": selectors.records_with_uncalibrated_equipment(limit=8),
    }


@register.filter
def hours(value) -> str:
    """Hours as 'h:mm' for short times and with one decimal for long ones."""
    if value is None:
        return "—"
    if value < 10:
        whole, minutes = divmod(round(value * 60), 60)
        return f"{whole} h {minutes:02d} min"
    return f"{value:.1f} h"
