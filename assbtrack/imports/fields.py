"""Parsers for one spreadsheet cell: text in, a Python value out, or ``ValueError(reason)`` for the report.

They are small and strict: a number must be finite and within range, a choice must be one of the values
or labels (any case), a date must be ISO (2026-03-01) — spreadsheets pass dates as dates, which the
reader has turned into ISO text already.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db.models import TextChoices
from django.utils import timezone

from .tables import trimmed

Parser = Callable[[str], Any]


def text(max_length: int = 200) -> Parser:
    def parse(value: str) -> str:
        value = trimmed(value)  # a leading tab stays: text is stored as the user sent it
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return parse


def number(
    *, minimum: float | None = None, maximum: float | None = None, greater_than: float | None = None
) -> Parser:
    def parse(value: str) -> float:
        cleaned = value.strip().replace("\u2212", "-")
        if cleaned.count(",") == 1 and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")  # a decimal comma from a European spreadsheet
        try:
            result = float(cleaned)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(result):
            raise ValueError("must be a finite number")
        if greater_than is not None and result <= greater_than:
            raise ValueError(f"must be greater than {greater_than:g}")
        if minimum is not None and result < minimum:
            raise ValueError(f"must be at least {minimum:g}")
        if maximum is not None and result > maximum:
            raise ValueError(f"must be at most {maximum:g}")
        return result

    return parse


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Parser:
    as_number = number(minimum=minimum, maximum=maximum)

    def parse(value: str) -> int:
        result = as_number(value)
        if result != int(result):
            raise ValueError(f"{value!r} is not a whole number")
        return int(result)

    return parse


def choice(choices: type[TextChoices]) -> Parser:
    by_text = {}
    for key, label in choices.choices:
        by_text[str(key).lower()] = key
        by_text[str(label).lower()] = key

    def parse(value: str) -> str:
        key = by_text.get(value.strip().lower())
        if key is None:
            raise ValueError(f"{value!r} is not one of: {', '.join(str(k) for k in choices.values)}")
        return key

    return parse


def iso_date(value: str) -> date:
    cleaned = value.strip()
    try:
        return date.fromisoformat(cleaned[:10] if "T" in cleaned or " " in cleaned else cleaned)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use 2026-03-01)") from None


def iso_datetime(value: str) -> datetime:
    try:
        result = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time (use 2026-03-01T10:15)") from None
    return result if timezone.is_aware(result) else timezone.make_aware(result)


def boolean(value: str) -> bool:
    cleaned = value.strip().lower()
    if cleaned in {"1", "yes", "y", "true", "x"}:
        return True
    if cleaned in {"0", "no", "n", "false"}:
        return False
    raise ValueError(f"{value!r} is not yes or no")
