"""Template tags of the tracing core shown on every record's page."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("tracing/_confirmed_warnings.html")
def confirmed_warnings(item):
    """The unusual values confirmed when the record was written (one query; nothing shown when there are none)."""
    return {"confirmed_warnings": list(item.confirmed_warnings.select_related("confirmed_by")[:50])}
