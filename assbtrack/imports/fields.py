"""Parsers for one spreadsheet cell: text in, a Python value out, or ``ValueError(reason)`` for the report.

They are small and strict: a number must be finite and within range, a choice must be one of the values
or labels (any case), a date must be ISO (2026-03-01) — spreadsheets pass dates as dates, which the
reader has turned into ISO text already.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db.models import TextChoices
from django.utils import timezone

from assbtrack.tracing.values import ascii_number_text, date_text_problem, magnitude_problem, record_date_problem

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
        ascii_number_text(cleaned)
        try:
            result = float(cleaned)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        problem = magnitude_problem(result)
        if problem:
            raise ValueError(problem)
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


def _date(value: str, *, future_allowed: bool) -> date:
    cleaned = value.strip()
    problem = date_text_problem(cleaned)
    if problem:
        raise ValueError(problem)
    try:
        result = date.fromisoformat(cleaned[:10] if "T" in cleaned or " " in cleaned else cleaned)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use 2026-03-01)") from None
    problem = record_date_problem(result, future_allowed=future_allowed)
    if problem:
        raise ValueError(problem)
    return result


def iso_date(value: str) -> date:
    """The date of a record: between 1990 and tomorrow (``assbtrack.tracing.values``)."""
    return _date(value, future_allowed=False)


def iso_date_due(value: str) -> date:
    """A date that may lie ahead (a calibration due): only after 1990."""
    return _date(value, future_allowed=True)


def iso_datetime(value: str) -> datetime:
    cleaned = value.strip()
    problem = date_text_problem(cleaned)
    if problem:
        raise ValueError(problem)
    try:
        result = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time (use 2026-03-01T10:15)") from None
    result = result if timezone.is_aware(result) else timezone.make_aware(result)
    problem = record_date_problem(result)
    if problem:
        raise ValueError(problem)
    return result


def boolean(value: str) -> bool:
    cleaned = value.strip().lower()
    if cleaned in {"1", "yes", "y", "true", "x"}:
        return True
    if cleaned in {"0", "no", "n", "false"}:
        return False
    raise ValueError(f"{value!r} is not yes or no")
