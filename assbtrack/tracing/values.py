"""Reading numbers and dates that people typed or imported: one set of rules and messages for every path.

Forms (through ``assbtrack.tracing.forms.LabForm``), imports (``assbtrack.imports.fields``) and the
services (``number_value``) all ask the functions here, so a value refused on one path is refused on all:

- a number is written with ASCII digits (Python's ``float()`` reads "١٢٣" as 123; a reader would not);
- a number is finite and not subnormal (1e-320 is below anything measured, and loses its precision);
- a record date (when something was received, made, measured) lies between ``RECORD_DATE_EARLIEST``
  (1990-01-01) and one day after today; dates that are meant to be in the future (a calibration due)
  only need to be after the earliest;
- a date is short text: "1" × 100000 was read as 1111-11-11 by the ISO parser.
"""

from __future__ import annotations

import math
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from assbtrack.domain.inputs import ModelInputError, check_number

SMALLEST_NORMAL = sys.float_info.min  # 2.2250738585072014e-308
RECORD_DATE_EARLIEST = date(1990, 1, 1)
RECORD_DATE_FUTURE_DAYS = 1
DATE_TEXT_MAX = 40  # "2026-03-01T10:15:00.000000+01:00" is 32 characters
NUMBER_TEXT_MAX = 60


def ascii_number_text(text: str) -> str:
    """``text`` if it is written with ASCII characters only, else ``ValueError``.

    Python's ``float()`` and ``int()`` read any script's digits ("١٢٣" is 123): a number typed in
    another script is refused rather than read silently, so what is stored is what a reader sees.
    """
    if not text.isascii():
        raise ValueError("must be written with the digits 0-9 (no other scripts' digits or symbols)")
    if len(text) > NUMBER_TEXT_MAX:
        raise ValueError(f"is too long for a number (at most {NUMBER_TEXT_MAX} characters)")
    return text


def magnitude_problem(number: float) -> str | None:
    """Why ``number`` is no measured value (infinite, not a number, subnormal), or ``None``."""
    if not math.isfinite(number):
        return "must be a finite number"
    if number != 0 and abs(number) < SMALLEST_NORMAL:
        return f"is too small to be a measured value (closer to 0 than {SMALLEST_NORMAL:.1e}); enter 0 or a real value"
    return None


def record_date_problem(value: date | datetime, *, future_allowed: bool = False) -> str | None:
    """Why ``value`` is not a plausible date of a record, or ``None``."""
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(value, datetime) and timezone.is_aware(value):
        day = timezone.localtime(value).date()
    if day < RECORD_DATE_EARLIEST:
        return f"is before {RECORD_DATE_EARLIEST:%Y-%m-%d}; check the year"
    latest = timezone.localdate() + timedelta(days=RECORD_DATE_FUTURE_DAYS)
    if not future_allowed and day > latest:
        return f"is in the future (after {latest:%Y-%m-%d}); check the date"
    return None


def date_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a date at all (too long, other scripts' digits), or ``None``."""
    if len(text) > DATE_TEXT_MAX:
        return f"is not a date (longer than {DATE_TEXT_MAX} characters)"
    if not text.isascii():
        return "must be written with the digits 0-9"
    return None


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
    if isinstance(value, str):
        try:
            ascii_number_text(value.strip())
        except ValueError as error:
            raise ValidationError({field: str(error)}) from None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "must be a number"}) from None
    except OverflowError:
        raise ValidationError({field: "must be a finite number"}) from None
    problem = magnitude_problem(number)
    if problem:
        raise ValidationError({field: problem})
    if greater_than is not None and number <= greater_than:
        raise ValidationError({field: f"must be greater than {greater_than:g}"})
    if minimum is not None and number < minimum:
        raise ValidationError({field: f"must be at least {minimum:g}"})
    if maximum is not None and number > maximum:
        raise ValidationError({field: f"must be at most {maximum:g}"})
    return number


def checked_number(value: Any, field: str, **limits) -> float:
    """A number handed to a service (a form's float, a Decimal column), by the science modules' rules
    (``assbtrack.domain.inputs.check_number``: finite, normal, within ``limits``); else a ``ValidationError``
    on ``field``."""
    if isinstance(value, Decimal):
        value = float(value)
    try:
        return check_number(value, field, **limits)
    except ModelInputError as error:
        raise ValidationError({error.field: error.reason}) from None


def checked_number_optional(value: Any, field: str, **limits) -> float | None:
    """``checked_number``, or ``None`` for a value left empty."""
    if value is None or value == "":
        return None
    return checked_number(value, field, **limits)
