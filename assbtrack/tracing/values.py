"""Reading numbers that people typed or imported: one set of rules and messages for every service."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError


def number_value(
    value: Any,
    field: str,
    *,
    required: bool = True,
    greater_than: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """A finite float (from a number or its text) or ``None``; anything else is a ``ValidationError`` on ``field``."""
    if value is None or value == "":
        if required:
            raise ValidationError({field: "is required"})
        return None
    if isinstance(value, bool):
        raise ValidationError({field: "must be a number"})
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "must be a number"}) from None
    if not math.isfinite(number):
        raise ValidationError({field: "must be a finite number"})
    if greater_than is not None and number <= greater_than:
        raise ValidationError({field: f"must be greater than {greater_than:g}"})
    if minimum is not None and number < minimum:
        raise ValidationError({field: f"must be at least {minimum:g}"})
    if maximum is not None and number > maximum:
        raise ValidationError({field: f"must be at most {maximum:g}"})
    return number


def ascii_number_text(text: str) -> str:
    """``text`` if it is written with ASCII characters only, else ``ValueError``.

    Python's ``float()`` and ``int()`` read any script's digits ("١٢٣" is 123): a number typed in
    another script is refused rather than read silently, so what is stored is what a reader sees.
    """
    if not text.isascii():
        raise ValueError("must be written with the digits 0-9 (no other scripts' digits or symbols)")
    return text
