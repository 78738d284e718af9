"""Every problem of one submission at once: services gather refusals by field and raise them together.

A technician who typed four bad rows is told about all four in one answer, each beside its field, rather than
one per submit. A service checks everything it can before it writes, adding each refusal to a ``Problems``,
and raises them all in one ``ValidationError`` keyed by field (``precursors.2.mass_g``, ``area_cm2``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

T = TypeVar("T")


class Problems:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def __contains__(self, field: str) -> bool:
        return field in self.by_field

    def add(self, field: str, message: str) -> None:
        messages = self.by_field.setdefault(field, [])
        if message not in messages:
            messages.append(message)

    def merge(self, error: ValidationError, *, field: str = NON_FIELD_ERRORS) -> None:
        """Take every message of ``error``; one without fields goes to ``field``."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.add(name, message)
        else:
            for message in error.messages:
                self.add(field, message)

    def check(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``function(*args, **kwargs)``, or None with its refusal kept (the next check still runs)."""
        try:
            return function(*args, **kwargs)
        except ValidationError as error:
            self.merge(error)
            return None

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError({field: list(messages) for field, messages in self.by_field.items()})
