"""Reading model inputs: plain dicts (parsed JSON) into checked floats, with errors that name the field.

Every model of MODELS.md takes a JSON object. The rules are the same for all of them: units are in
the key names, unknown keys are an error, a missing key without a default is an error, numbers are
finite and within their range. ``Inputs`` applies those rules and remembers which keys were read, so
that ``finish()`` can refuse the keys nobody asked for.

No Django here: the web forms, the API, the Celery tasks and ``manage.py run_model`` all call the
same model functions, which raise ``ModelInputError`` and let each caller present it its own way.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

SMALLEST_NORMAL = sys.float_info.min

_MISSING: Any = object()


class ModelInputError(ValueError):
    """A model input that cannot be used; ``field`` is the dotted path of the offending key."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Inputs:
    """A checked view of one JSON object at ``path`` (``""`` for the top level)."""

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, Mapping):
            raise ModelInputError(path or "input", "must be a JSON object")
        self._data = data
        self._path = path
        self._read: set[str] = set()

    @property
    def path(self) -> str:
        return self._path

    def field(self, key: str | int) -> str:
        return _join(self._path, key)

    def has(self, key: str) -> bool:
        return key in self._data and self._data[key] is not None

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self._read.add(key)
        if key not in self._data:
            if default is _MISSING:
                raise ModelInputError(self.field(key), "is required")
            return default
        return self._data[key]

    def number(
        self,
        key: str,
        *,
        default: Any = _MISSING,
        minimum: float | None = None,
        maximum: float | None = None,
        greater_than: float | None = None,
        less_than: float | None = None,
        allow_none: bool = False,
    ) -> float | None:
        value = self.raw(key, default)
        if value is None and (allow_none or default is None):
            return None
        return check_number(
            value,
            self.field(key),
            minimum=minimum,
            maximum=maximum,
            greater_than=greater_than,
            less_than=less_than,
        )

    def integer(
        self, key: str, *, default: Any = _MISSING, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw(key, default)
        field = self.field(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelInputError(field, "must be a whole number")
        if isinstance(value, float) and not value.is_integer():
            raise ModelInputError(field, "must be a whole number")
        number = int(value)
        if minimum is not None and number < minimum:
            raise ModelInputError(field, f"must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ModelInputError(field, f"must be at most {maximum}")
        return number

    def boolean(self, key: str, *, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ModelInputError(self.field(key), "must be true or false")
        return value

    def text(self, key: str, *, default: Any = _MISSING, max_length: int = 200) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ModelInputError(self.field(key), "must be a non-empty string")
        if len(value) > max_length:
            raise ModelInputError(self.field(key), f"must be at most {max_length} characters")
        return value

    def choice(self, key: str, choices: Iterable[str], *, default: Any = _MISSING) -> str:
        allowed = tuple(choices)
        value = self.raw(key, default)
        if value not in allowed:
            raise ModelInputError(self.field(key), f"must be one of {', '.join(allowed)}")
        return value

    def obj(self, key: str, *, default: Any = _MISSING, allow_none: bool = False) -> Inputs | None:
        value = self.raw(key, default)
        if value is None and allow_none:
            return None
        return Inputs(value, self.field(key))

    def objects(self, key: str, *, min_items: int = 0, max_items: int | None = None) -> list[Inputs]:
        items = self._list(key, min_items=min_items, max_items=max_items)
        return [Inputs(item, _join(self.field(key), index)) for index, item in enumerate(items)]

    def numbers(
        self,
        key: str,
        *,
        default: Any = _MISSING,
        min_items: int = 1,
        max_items: int | None = 10_000,
        minimum: float | None = None,
        greater_than: float | None = None,
    ) -> list[float]:
        items = self._list(key, default=default, min_items=min_items, max_items=max_items)
        return [
            check_number(item, _join(self.field(key), index), minimum=minimum, greater_than=greater_than)
            for index, item in enumerate(items)
        ]

    def _list(
        self, key: str, *, default: Any = _MISSING, min_items: int = 0, max_items: int | None = None
    ) -> list[Any]:
        value = self.raw(key, default)
        field = self.field(key)
        if not isinstance(value, list):
            raise ModelInputError(field, "must be a list")
        if len(value) < min_items:
            raise ModelInputError(field, f"needs at least {min_items} entries, got {len(value)}")
        if max_items is not None and len(value) > max_items:
            raise ModelInputError(field, f"takes at most {max_items} entries, got {len(value)}")
        return value

    def finish(self) -> None:
        """Refuse keys that the model never read: a misspelt key must not be silently ignored."""
        unknown = sorted(str(key) for key in self._data if key not in self._read)
        if unknown:
            raise ModelInputError(self.field(unknown[0]), "is not a known input key")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)


def check_number(
    value: Any,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    greater_than: float | None = None,
    less_than: float | None = None,
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelInputError(field, "must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise ModelInputError(field, "must be a finite number") from None
    if not math.isfinite(number):
        raise ModelInputError(field, "must be a finite number")
    if number != 0 and abs(number) < SMALLEST_NORMAL:
        # subnormal: below anything measured, and with too few significant digits to mean anything
        raise ModelInputError(field, "is too small to be a measured value; enter 0 or a real value")
    if minimum is not None and number < minimum:
        raise ModelInputError(field, f"must be at least {minimum:g}")
    if maximum is not None and number > maximum:
        raise ModelInputError(field, f"must be at most {maximum:g}")
    if greater_than is not None and number <= greater_than:
        raise ModelInputError(field, f"must be greater than {greater_than:g}")
    if less_than is not None and number >= less_than:
        raise ModelInputError(field, f"must be less than {less_than:g}")
    return number
