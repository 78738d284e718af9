"""People's words for the stored codes of traced items: kinds, lineage roles and quantity units.

The database keeps short codes (``cut_from``, ``cm2``); every page shows their labels (``Cut from film``,
``cm²``). A code without a label (a kind an app registered later) is shown as stored.
"""

from __future__ import annotations

from decimal import Decimal

from django import template

from ..choices import ItemKind, LineageRole, QuantityUnit

register = template.Library()

_KIND_LABELS = dict(ItemKind.choices)
_ROLE_LABELS = dict(LineageRole.choices)
_UNIT_LABELS = {**dict(QuantityUnit.choices), "pcs": "pcs"}


@register.filter
def kind_label(value) -> str:
    """``sse_batch`` → ``SSE synthesis batch``."""
    return _KIND_LABELS.get(value, value or "")


@register.filter
def role_label(value) -> str:
    """``cut_from`` → ``Cut from film``."""
    return _ROLE_LABELS.get(value, value or "")


@register.filter
def unit_label(value) -> str:
    """``cm2`` → ``cm²``; pieces stay ``pcs`` beside a number."""
    return _UNIT_LABELS.get(value, value or "")


@register.filter
def amount_with_unit(amount, unit) -> str:
    """An amount and its unit as a person writes them: ``Decimal('2.500')``, ``cm2`` → ``2.5 cm²``; blank for none."""
    if amount is None:
        return ""
    if isinstance(amount, Decimal):
        # normalize() alone writes 100 as 1E+2
        text = format(amount.normalize(), "f")
    else:
        text = f"{amount:g}"
    label = unit_label(unit)
    return f"{text} {label}" if label else text
